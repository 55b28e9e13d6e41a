"""/api/reps and /api/webhooks: the sales team and the alert receivers (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from leadflow.api.deps import DbSession, Now, actor_of, require
from leadflow.api.rest.schemas import RepIn, RepPatch, RowId, WebhookIn
from leadflow.api.strict_body import StrictRoute
from leadflow.core.roles import Permission, Role
from leadflow.models.api_key import ApiKey
from leadflow.models.rep import Rep
from leadflow.services import audit, playbooks, reps, sla, webhooks
from leadflow.services.reps import redacted_channels

router = APIRouter(tags=["team and alerts"], route_class=StrictRoute)
Reader = Annotated[ApiKey, Depends(require(Permission.READ))]
Admin = Annotated[ApiKey, Depends(require(Permission.ADMIN))]


def rep_dict(rep: Rep, *, reveal: bool = False) -> dict[str, Any]:
    """A rep as the API shows it; channel URLs hold tokens and passwords, so only an admin
    (`reveal`) sees them whole, anyone else their scheme and host."""
    return {
        "id": rep.id,
        "name": rep.name,
        "email": rep.email,
        "team": rep.team,
        "capacity": rep.capacity,
        "weight": rep.weight,
        "working_hours": rep.working_hours,
        "timezone": rep.timezone,
        "out_of_office_until": rep.out_of_office_until,
        "manager_email": rep.manager_email,
        "territories": rep.territories,
        "channels": list(rep.channels or []) if reveal else redacted_channels(rep),
        "active": rep.active,
    }


@router.get("/reps", summary="The sales team")
def list_reps(session: DbSession, caller: Reader) -> list[dict[str, Any]]:
    """Every rep, by team and name; channel URLs whole for admin keys only."""
    reveal = caller.role == Role.ADMIN
    return [rep_dict(r, reveal=reveal) for r in reps.list_reps(session)]


@router.post("/reps", status_code=201, summary="Add a rep")
def add_rep(body: RepIn, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    """409 when the e-mail exists; 422 naming bad hours, time zone or channel URLs. `notes`:
    what to know about it, such as a team no routing rule sends leads to."""
    fields = body.model_dump()
    rep = reps.add_rep(session, fields, now=now)
    _audit(session, caller, "rep.add", f"rep:{rep.id}", _rep_change(rep, fields), now)
    return {**rep_dict(rep, reveal=True), "notes": playbooks.team_notes(session, rep.team)}


def _rep_change(rep: Rep, fields: dict[str, Any]) -> dict[str, Any]:
    """The rep and which fields were set (channel URLs carry tokens: never their values)."""
    return {"email": rep.email, "team": rep.team, "fields": sorted(fields)}


def _audit(
    session: DbSession, caller: ApiKey, action: str, target: str, details: dict[str, Any],
    now: datetime,
) -> None:  # fmt: skip
    audit.record(session, actor=actor_of(caller), action=action, target=target, details=details,
                 now=now)  # fmt: skip


@router.patch("/reps/{rep_id}", summary="Change a rep (capacity, hours, out-of-office, ...)")
def update_rep(
    rep_id: RowId, body: RepPatch, session: DbSession, now: Now, caller: Admin
) -> dict[str, Any]:
    """Only the fields sent change. `notes`: as for a new rep, when the team changed."""
    fields = body.model_dump(exclude_unset=True)
    rep = reps.update_rep(session, rep_id, fields)
    _audit(session, caller, "rep.update", f"rep:{rep.id}", _rep_change(rep, fields), now)
    notes = playbooks.team_notes(session, rep.team) if "team" in fields else []
    return {**rep_dict(rep, reveal=True), "notes": notes}


@router.get("/sla", summary="This month's SLA, both sides")
def sla_report(session: DbSession, now: Now, _: Reader) -> dict[str, Any]:
    """Marketing's MQLs against the commitment; sales' hand-offs met, breached or open."""
    return sla.month_report(session, playbooks.active_playbook(session), now)


@router.get("/webhooks", summary="Webhook endpoints (never their secrets)")
def list_webhooks(session: DbSession, _: Admin) -> list[dict[str, Any]]:
    """Every endpoint."""
    return [
        {"id": e.id, "url": e.url, "events": e.events, "active": e.active}
        for e in webhooks.list_endpoints(session)
    ]


@router.post("/webhooks", status_code=201, summary="Add an endpoint; its secret is shown once")
def add_webhook(body: WebhookIn, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    """Verify deliveries with the `secret` (Standard Webhooks); it is not shown again."""
    made = webhooks.add_endpoint(session, body.url, body.events, now=now)
    endpoint = made.endpoint
    details = {"url": endpoint.url, "events": endpoint.events}  # the URL is redacted
    _audit(session, caller, "webhook.add", f"webhook:{endpoint.id}", details, now)
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "secret": made.secret,
    }


@router.get("/webhooks/log", summary="The delivery log, newest first")
def delivery_log(
    session: DbSession, _: Admin, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """Each alert per target: tries, status and the last error."""
    return [
        {
            "alert_id": m.alert_id,
            "type": m.event_type,
            "target": f"{m.target_kind}:{m.target}" if m.target_kind == "webhook" else "apprise",
            "attempts": m.attempts,
            "delivered_at": m.delivered_at,
            "given_up_at": m.given_up_at,
            "next_attempt_at": m.next_attempt_at,
            "last_error": m.last_error,
        }
        for m in webhooks.delivery_log(session, limit)
    ]


@router.post("/webhooks/replay/{alert_id}", summary="Send an alert again, under the same id")
def replay(alert_id: str, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    """404 when there is no such alert."""
    queued = webhooks.replay(session, alert_id, now)
    _audit(session, caller, "webhook.replay", f"alert:{alert_id}", {"queued": queued}, now)
    return {"alert_id": alert_id, "queued": queued}
