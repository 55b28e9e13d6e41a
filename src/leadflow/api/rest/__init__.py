"""The REST API under /api: leads, accounts, events, the playbook and sales' stage actions."""

from fastapi import APIRouter

from leadflow.api.rest import accounts, events, leads, people, playbook, reports, team, users


def router() -> APIRouter:
    """Every /api route."""
    api = APIRouter(prefix="/api")
    for module in (leads, accounts, events, playbook, team, reports, users, people):
        api.include_router(module.router)
    return api
