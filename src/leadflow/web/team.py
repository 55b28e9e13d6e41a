"""Managing the team in the pages (managers and admins): add and edit reps, and ask who
would get a lead. The same checks as the API (`services.reps`), every change audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from leadflow.api.deps import DbSession, Now
from leadflow.api.rest.schemas import RepIn, RepPatch
from leadflow.api.strict_body import BoundedRoute
from leadflow.core.errors import LeadflowError, NotFound
from leadflow.core.roles import Permission
from leadflow.models.rep import Rep
from leadflow.repositories import reps as rep_repo
from leadflow.services import audit, reps, routing_preview
from leadflow.web.auth import Viewer, can, check_csrf
from leadflow.web.pages import page

router = APIRouter(include_in_schema=False, route_class=BoundedRoute)
Team = Annotated[Viewer, Depends(can(Permission.TEAM))]
TEXT_FIELDS = ("name", "email", "team", "working_hours", "timezone", "manager_email")


@router.get("/team/reps/new")
def new_rep(request: Request, seen: Team) -> HTMLResponse:
    return _form(request, seen, None, {"working_hours": "mon-fri 09:00-17:00", "timezone": "UTC",
                                       "capacity": 20, "weight": 1})  # fmt: skip


@router.get("/team/reps/{rep_id}")
def edit_rep(rep_id: int, request: Request, session: DbSession, seen: Team) -> HTMLResponse:
    rep = _rep(session, rep_id)
    return _form(request, seen, rep, _values_of(rep, seen))


@router.post("/team/reps")
async def add_rep(request: Request, session: DbSession, now: Now, seen: Team) -> Response:
    await check_csrf(request, seen)
    form = await _fields(request)
    try:
        fields = RepIn.model_validate(_typed(form, seen, new=True)).model_dump()
        rep = reps.add_rep(session, fields, now=now)
    except (ValidationError, LeadflowError) as exc:
        return _form(request, seen, None, form, _problems(exc), status=422)
    _audit(session, seen, "rep.add", rep, fields, now)
    return RedirectResponse(f"/team?saved={rep.id}", status_code=303)


@router.post("/team/reps/{rep_id}")
async def update_rep(
    rep_id: int, request: Request, session: DbSession, now: Now, seen: Team
) -> Response:
    await check_csrf(request, seen)
    rep = _rep(session, rep_id)
    form = await _fields(request)
    try:
        typed = _typed(form, seen, new=False)
        fields = RepPatch.model_validate(typed).model_dump(exclude_unset=True)
        reps.update_rep(session, rep.id, fields)
    except (ValidationError, LeadflowError) as exc:
        return _form(request, seen, _rep(session, rep_id), form, _problems(exc), status=422)
    _audit(session, seen, "rep.update", rep, fields, now)
    return RedirectResponse(f"/team?saved={rep.id}", status_code=303)


@router.get("/team/route")
def who_would_get(
    request: Request, session: DbSession, now: Now, seen: Team, lead: str = "", facts: str = ""
) -> HTMLResponse:
    """Routing's decision now, for a lead (e-mail or id) or for made-up facts."""
    preview, error = None, None
    try:
        if lead.strip():
            preview = routing_preview.for_lead(session, lead.strip(), now)
        elif facts.strip():
            preview = routing_preview.for_facts(session, facts, now)
    except LeadflowError as exc:
        error = exc.message
    response = page(request, "route_preview.html", seen, preview=preview, error=error,
                    lead=lead, facts=facts)  # fmt: skip
    response.status_code = 422 if error else 200
    return response


def _rep(session: DbSession, rep_id: int) -> Rep:
    rep = rep_repo.get(session, rep_id) if 0 < rep_id < 2**63 else None
    if rep is None:
        raise NotFound(f"no rep with id {rep_id}")
    return rep


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _typed(form: dict[str, str], seen: Viewer, *, new: bool) -> dict[str, Any]:
    """The form's text as the API's fields: blanks left out (kept), lists split, and channels
    only from admins (others see them redacted, so their form cannot carry them)."""
    typed: dict[str, Any] = {
        k: form[k].strip() for k in TEXT_FIELDS if form.get(k, "").strip() and (new or k != "email")
    }
    for name in ("capacity", "weight"):
        if form.get(name, "").strip():
            typed[name] = form[name].strip()
    # On the edit form an emptied territories field clears them; a blank name or team keeps it.
    if "territories" in form and (not new or form["territories"].strip()):
        typed["territories"] = [t.strip() for t in form["territories"].split(",") if t.strip()]
    if seen.may(Permission.ADMIN) and "channels" in form:
        typed["channels"] = [line.strip() for line in form["channels"].splitlines() if line.strip()]
    if not new:
        away = form.get("out_of_office_until", "").strip()
        typed["out_of_office_until"] = _day(away) if away else None
        typed["active"] = form.get("active") == "on"
    return typed


def _day(text: str) -> datetime | str:
    """The form's day, its start in the rep's time zone (`services.reps.update_rep`)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text  # the model names it


def _local_day(moment: datetime, zone: str) -> str:
    """The day `moment` falls on where the rep works (UTC when the zone is unknown)."""
    try:
        return moment.astimezone(ZoneInfo(zone)).date().isoformat()
    except (ValueError, KeyError):
        return moment.astimezone(UTC).date().isoformat()


def _problems(exc: ValidationError | LeadflowError) -> list[str]:
    if isinstance(exc, LeadflowError):
        return [exc.message]
    found = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item["loc"]) or "form"
        found.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return found


def _values_of(rep: Rep, seen: Viewer) -> dict[str, Any]:
    channels = list(rep.channels or []) if seen.may(Permission.ADMIN) else []
    away = rep.out_of_office_until
    return {
        "name": rep.name, "email": rep.email, "team": rep.team, "capacity": rep.capacity,
        "weight": rep.weight, "working_hours": rep.working_hours, "timezone": rep.timezone,
        "manager_email": rep.manager_email or "", "territories": ", ".join(rep.territories or []),
        "channels": "\n".join(channels), "active": "on" if rep.active else "",
        "out_of_office_until": _local_day(away, rep.timezone) if away else "",
    }  # fmt: skip


def _form(
    request: Request, seen: Viewer, rep: Rep | None, values: dict[str, Any],
    problems: list[str] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    redacted = reps.redacted_channels(rep) if rep and not seen.may(Permission.ADMIN) else []
    response = page(request, "rep_form.html", seen, rep=rep, values=values,
                    problems=problems or [], redacted=redacted)  # fmt: skip
    response.status_code = status
    return response


def _audit(
    session: DbSession, seen: Viewer, action: str, rep: Rep, fields: dict[str, Any], now: datetime
) -> None:
    # Channel URLs carry tokens: the entry names the fields set, never their values.
    details = {"email": rep.email, "team": rep.team, "fields": sorted(fields)}
    audit.record(session, actor=seen.user.email, action=action, target=f"rep:{rep.id}",
                 details=details, now=now)  # fmt: skip
