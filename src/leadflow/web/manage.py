"""The pages that change the agreement or look after the team: playbook, plan, reps, alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from leadflow.api.deps import DbSession, Now, ReadSession
from leadflow.api.strict_body import BoundedRoute
from leadflow.core import amounts
from leadflow.core.errors import LeadflowError, NotFound
from leadflow.core.plan import PLAN_STAGES, parse_rates
from leadflow.core.playbook_text import PlaybookInvalid, parse_playbook
from leadflow.core.roles import Permission
from leadflow.models.playbook import PlaybookVersion
from leadflow.services import audit, playbooks, reporting, reps, shadow, webhooks
from leadflow.services import plan as plan_service
from leadflow.web.auth import Viewer, can, check_csrf
from leadflow.web.pages import page

router = APIRouter(include_in_schema=False, route_class=BoundedRoute)
Reader = Annotated[Viewer, Depends(can(Permission.READ))]
Editor = Annotated[Viewer, Depends(can(Permission.PLAYBOOK))]
Team = Annotated[Viewer, Depends(can(Permission.TEAM))]


@router.get("/playbook")
def playbook_page(request: Request, session: DbSession, seen: Reader) -> HTMLResponse:
    versions = _versions(session)
    # The note after applying names a version there is, never text of the link's own.
    asked = request.query_params.get("applied")
    applied = next((v["version"] for v in versions["versions"] if str(v["version"]) == asked),
                   None)  # fmt: skip
    return page(request, "playbook.html", seen, text=versions["current"]["content"],
                preview=None, problems=[], applied=applied, **versions)  # fmt: skip


def _versions(session: DbSession) -> dict[str, Any]:
    """The active version (`current`: the pages' `active` names the highlighted tab) and the
    history as plain values (a preview's rollback expires ORM objects)."""

    def plain(v: PlaybookVersion) -> dict[str, Any]:
        return {"id": v.id, "version": v.version, "name": v.name, "author": v.author,
                "created_at": v.created_at, "content": v.content,
                "shadow": v.shadow}  # fmt: skip

    current = plain(playbooks.active_version(session))
    return {"current": current, "versions": [plain(v) for v in playbooks.versions(session)]}


@router.post("/playbook")
async def playbook_submit(request: Request, session: DbSession, now: Now, seen: Editor) -> Response:
    """Preview (validate, diff, what would move) or apply; problems shown by line."""
    await check_csrf(request, seen)
    form = await request.form()
    # Browsers send a textarea with CRLF line ends; the stored playbook has LF.
    text = str(form.get("content", "")).replace("\r\n", "\n")
    intent = str(form.get("intent", "preview"))
    context = {"text": text, **_versions(session)}
    try:
        parse_playbook(text)
    except PlaybookInvalid as exc:
        response = page(request, "playbook.html", seen, preview=None, problems=exc.problems,
                        **context)  # fmt: skip
        response.status_code = 422
        return response
    if intent == "apply":
        outcome = playbooks.apply(session, text, author=seen.user.email, now=now)
        return RedirectResponse(f"/playbook?applied={outcome.version}", status_code=303)
    before = _mql_count(session)
    nested = session.begin_nested()
    outcome = playbooks.apply(session, text, author=seen.user.email, now=now, dry_run=True)
    after = _mql_count(session)
    nested.rollback()
    preview = {"outcome": outcome, "mqls_before": before, "mqls_after": after,
               "moves": sorted(outcome.stage_moves.items(), key=lambda kv: -kv[1])}  # fmt: skip
    return page(request, "playbook.html", seen, preview=preview, problems=[], **context)


@router.post("/playbook/check")
async def playbook_check(request: Request, seen: Editor) -> JSONResponse:
    """The editor's check as you type: every problem with its line (nothing is stored)."""
    await check_csrf(request, seen)
    form = await request.form()
    text = str(form.get("content", "")).replace("\r\n", "\n")
    try:
        parse_playbook(text)
    except PlaybookInvalid as exc:
        found = [{"line": p.line, "path": p.path, "message": p.message} for p in exc.problems]
        return JSONResponse({"problems": found})
    return JSONResponse({"problems": []})


def _mql_count(session: DbSession) -> int:
    return reporting.stage_counts(session).get("mql", 0)


@router.get("/plan")
def plan_page(
    request: Request, session: ReadSession, now: Now, seen: Reader,
    goal: str = "1000000", deal_size: str = "20000", period: str = "quarter", rates: str = "",
) -> HTMLResponse:  # fmt: skip
    error, result = None, None
    try:
        figures = _amount("goal", goal), _amount("deal size", deal_size)
        given = parse_rates([r for r in rates.replace(",", " ").split() if r])
        request_ = plan_service.PlanRequest(
            figures[0], figures[1], period, given, rate_by_hand="{stage}=R in the Rates field"
        )
        result = plan_service.build(session, request_, now)
    except (LeadflowError, ValueError) as exc:
        error = getattr(exc, "message", str(exc))
    chart = None
    if result:
        chart = {"labels": [s["stage"] for s in result["stages"]],
                 "due": [s["due_by_now"] for s in result["stages"]],
                 "actual": [s["actual"] for s in result["stages"]]}  # fmt: skip
    return page(request, "plan.html", seen, result=result, error=error, goal=goal,
                deal_size=deal_size, period=period, rates=rates, stages=PLAN_STAGES,
                chart=chart)  # fmt: skip


def _amount(name: str, text: str) -> float:
    """A positive amount typed in the form; Invalid names the field and what was typed."""
    return amounts.read(text, name, positive=True)


@router.get("/team")
def team_page(request: Request, session: DbSession, now: Now, seen: Team) -> HTMLResponse:
    routing = playbooks.active_playbook(session).routing
    team = reps.list_reps(session)
    # Channel URLs hold tokens and passwords: whole for admins, scheme and host for others.
    admin = seen.may(Permission.ADMIN)
    channels = {r.id: list(r.channels or []) if admin else reps.redacted_channels(r) for r in team}
    status = reps.status_now(session, team, now)
    # After the rep form: what `reps add` and `POST /api/reps` note of the rep's team.
    saved = next((r for r in team if str(r.id) == request.query_params.get("saved")), None)
    notes = playbooks.team_notes(session, saved.team) if saved is not None else []
    return page(request, "team.html", seen, reps=team, routing=routing, channels=channels,
                status=status, notes=notes)  # fmt: skip


@router.get("/alerts")
def alerts_page(request: Request, session: DbSession, seen: Team) -> HTMLResponse:
    log = webhooks.delivery_log(session, ALERTS_SHOWN + 1)  # one more: are there older ones?
    # The note after a replay names an alert listed, never text of the link's own.
    asked = request.query_params.get("replayed")
    replayed = next((m.alert_id for m in log if m.alert_id == asked), None)
    return page(request, "alerts.html", seen, log=log[:ALERTS_SHOWN],
                older=len(log) > ALERTS_SHOWN, shown=ALERTS_SHOWN,
                replayed=replayed)  # fmt: skip


ALERTS_SHOWN = 100  # deliveries on the alerts page, newest first


@router.post("/alerts/{alert_id}/replay")
async def replay(
    alert_id: str, request: Request, session: DbSession, now: Now, seen: Team
) -> Response:
    await check_csrf(request, seen)
    queued = webhooks.replay(session, alert_id, now)
    audit.record(session, actor=seen.user.email, action="webhook.replay",
                 target=f"alert:{alert_id}", details={"queued": queued}, now=now)  # fmt: skip
    return RedirectResponse(f"/alerts?replayed={alert_id}", status_code=303)


@router.get("/playbook/compare")
def compare_page(request: Request, session: DbSession, seen: Reader) -> HTMLResponse:
    """The shadow candidate against the active playbook (or how to start one)."""
    try:
        figures = shadow.seen_by(session, seen.actor, shadow.compare_live(session))
    except NotFound:
        figures = None
    return page(request, "playbook_compare.html", seen, figures=figures, preview=None)


@router.post("/playbook/promote")
async def promote_submit(request: Request, session: DbSession, now: Now, seen: Editor) -> Response:
    """Preview promoting the shadow candidate (diff, stage moves), or promote it."""
    await check_csrf(request, seen)
    form = await request.form()
    if str(form.get("intent", "preview")) == "apply":
        outcome = shadow.promote(session, author=seen.user.email, now=now)
        return RedirectResponse(f"/playbook?applied={outcome.version}", status_code=303)
    figures = shadow.seen_by(session, seen.actor, shadow.compare_live(session))
    nested = session.begin_nested()
    outcome = shadow.promote(session, author=seen.user.email, now=now, dry_run=True)
    nested.rollback()
    preview = {"outcome": outcome,
               "moves": sorted(outcome.stage_moves.items(), key=lambda kv: -kv[1])}  # fmt: skip
    return page(request, "playbook_compare.html", seen, figures=figures, preview=preview)
