"""Liveness and readiness (`/healthz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from leadflow.api.deps import DbSession
from leadflow.api.errors import error_response

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Health: the server is up and its database answers")
def healthz(session: DbSession) -> Any:
    """200 with {"status": "ok"} when the database answers, 503 otherwise."""
    try:
        session.execute(text("SELECT 1"))
    except Exception:
        return error_response(503, "database unavailable")
    return {"status": "ok", "database": session.get_bind().dialect.name}


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The app's own registry in the Prometheus text format."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
