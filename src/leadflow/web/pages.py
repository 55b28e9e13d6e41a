"""The pages: sign-in, my queue, a lead, the funnel and closed loop."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from leadflow.api.deps import DbSession, Now, ReadSession
from leadflow.api.strict_body import BoundedRoute
from leadflow.core import amounts, team_events
from leadflow.core.errors import Invalid, LeadflowError, NotFound
from leadflow.core.lifecycle import Action
from leadflow.core.report_math import Cohort
from leadflow.core.roles import Permission
from leadflow.models.lead import Lead
from leadflow.services import access, leads, lifecycle, playbooks, reports, reps, sales, users
from leadflow.services.reports import snapshots
from leadflow.web.auth import (
    COOKIE,
    BadCsrf,
    PageForbidden,
    Seen,
    Viewer,
    can,
    check_csrf,
    same_token,
)

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
LOGIN_CSRF = "lf_login_csrf"
router = APIRouter(include_in_schema=False, route_class=BoundedRoute)
Seller = Annotated[Viewer, Depends(can(Permission.SALES))]
Reader = Annotated[Viewer, Depends(can(Permission.READ))]


def page(request: Request, name: str, seen: Viewer | None, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"viewer": seen, **context})


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return login_page(request, None, next)


def login_page(
    request: Request, error: str | None, next: str = "/", email: str = ""
) -> HTMLResponse:
    """The sign-in form with a fresh double-submit token, and the error if any."""
    token = secrets.token_urlsafe(24)
    settings = request.app.state.settings
    sso = settings.oidc_name if settings.sso_enabled else None
    response = page(request, "login.html", None, csrf=token, next=safe_path(next), error=error,
                    email=email, sso=sso)  # fmt: skip
    response.set_cookie(
        LOGIN_CSRF, token, httponly=True, samesite="strict", secure=is_https(request)
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    now: Now,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not same_token(csrf_token, expected):
        return refused(request, "Your sign-in form expired; please try again.", next, email)
    try:
        user = users.sign_in(session, email, password, _address(request), now) if (
            email and password) else None  # fmt: skip
    except users.Throttled as exc:
        throttled = refused(request, exc.message, next, email, status=429)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    if user is None:
        message = "That e-mail and password do not match an account."
        return refused(request, message, next, email)
    return signed_in(request, users.start_session(session, user, now), next)


def signed_in(request: Request, token: str, next: str) -> Response:
    """Go on to `next` (a local path) with the new session's cookie."""
    response = RedirectResponse(safe_path(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=is_https(request),
                        max_age=int(users.SESSION_LIFETIME.total_seconds()))  # fmt: skip
    response.delete_cookie(LOGIN_CSRF)
    return response


def refused(request: Request, error: str, next: str, email: str, status: int = 401) -> Response:
    refused = login_page(request, error, next, email)
    refused.status_code = status
    return refused


def _address(request: Request) -> str:
    """The client's address, as the server sees it (behind a proxy: see the README)."""
    return request.client.host if request.client else "unknown"


@router.get("/welcome")
def welcome(request: Request, session: DbSession, now: Now, token: str = "") -> Response:
    """A one-time sign-in link (`leadflow demo` prints one): says whose account it opens and
    signs in only when confirmed, so a link made for someone else cannot sign a person in
    unnoticed (login CSRF)."""
    user = users.link_user(session, token, now) if token else None
    if user is None:
        return RedirectResponse("/login", status_code=303)
    csrf = secrets.token_urlsafe(24)
    current = request.cookies.get(COOKIE)
    signed = users.session_for(session, current, now) if current else None
    response = page(request, "welcome.html", None, csrf=csrf, token=token, user=user,
                    signed_in_as=signed[0] if signed else None)  # fmt: skip
    response.set_cookie(
        LOGIN_CSRF, csrf, httponly=True, samesite="strict", secure=is_https(request)
    )
    return response


@router.post("/welcome")
def welcome_confirmed(
    request: Request, session: DbSession, now: Now,
    token: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not same_token(csrf_token, expected):
        raise BadCsrf
    fresh = users.redeem(session, token, now) if token else None
    if fresh is None:
        return RedirectResponse("/login", status_code=303)
    return signed_in(request, fresh, "/")


@router.post("/logout")
async def logout(request: Request, session: DbSession, seen: Seen) -> Response:
    await check_csrf(request, seen)
    users.end_session(session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def home(seen: Seen) -> Response:
    start = "/queue" if seen.may(Permission.SALES) else "/dashboard"
    return RedirectResponse(start, status_code=303)


def _queue(session: DbSession, seen: Viewer, now: datetime) -> list[dict[str, Any]]:
    return access.queue(session, seen.actor, playbooks.active_playbook(session), now)


@router.get("/queue")
def queue_page(request: Request, session: DbSession, now: Now, seen: Seller) -> HTMLResponse:
    rows = _queue(session, seen, now)
    every = access.owner_scope(seen.actor) is None
    return page(request, "queue.html", seen, rows=rows, now=now, all_reps=every)


@router.get("/queue/rows")
def queue_rows(request: Request, session: DbSession, now: Now, seen: Seller) -> HTMLResponse:
    return page(request, "_queue_rows.html", seen, rows=_queue(session, seen, now), now=now)


ACTIONS = {"accept", "recycle", "disqualify", "convert", "close_won", "close_lost"}


@router.post("/leads/{key}/act")
async def act(key: str, request: Request, session: DbSession, now: Now, seen: Seller) -> Response:
    """A stage action or a touch from the queue or the lead page; errors shown in place."""
    await check_csrf(request, seen)
    form = await request.form()
    action, reason = str(form.get("action", "")), str(form.get("reason", "")).strip()
    # Held until the commit: one merged or erased meanwhile is a 409 or 404 page naming what
    # became of it, never a 500 at the action's first write (`leads.held`).
    lead = leads.held(session, key)
    _allowed(seen, lead, Permission.SALES)
    error = None
    try:
        if action == "touch":
            sales.log_touch(session, lead, actor=seen.user.email, channel="call", now=now,
                            text=reason)  # fmt: skip
        elif action in ACTIONS:
            amount = _amount(str(form.get("amount", "")))
            if action == "convert" and amount is None and amounts.number(reason) is not None:
                amount, reason = _amount(reason), ""  # the queue's one field holds the amount
            # Accepting follows the API's rule: a rep takes a lead, an owned one only its owner.
            owner = reps.accepting_person(session, lead.owner, seen.user.email) if (
                action == "accept") else None  # fmt: skip
            lifecycle.act(session, lead, Action(action), actor=seen.user.email, reason=reason,
                          now=now, amount=amount, owner=owner,
                          reengage_on=_day(str(form.get("reengage_on", ""))))  # fmt: skip
        else:
            error = f"unknown action {action!r}"
    except LeadflowError as exc:
        error = exc.message
    if request.headers.get("hx-request"):
        rows = _queue(session, seen, now)
        response = page(request, "_queue_rows.html", seen, rows=rows, now=now, error=error,
                        error_lead=lead.id)  # fmt: skip
        return response
    if error:
        return _lead_view(str(lead.id), request, session, now, seen, error=error)
    return RedirectResponse(f"/leads/{lead.id}", status_code=303)


def _allowed(seen: Viewer, lead: Lead, permission: Permission) -> None:
    """A 403 page unless the access rules let the viewer do this to the lead."""
    reason = access.refusal(seen.actor, lead, permission)
    if reason is not None:
        raise PageForbidden(reason)


def _day(text: str) -> datetime | None:
    """A day typed in a date field (YYYY-MM-DD), as midnight UTC; Invalid names the field."""
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
    except ValueError:
        raise Invalid(f"reengage_on: {text.strip()!r} is not a day (YYYY-MM-DD)") from None


TIMELINE_EVENTS = 30  # the lead page's timeline: the latest events (with every stage move)


def _amount(text: str) -> float | None:
    """The amount field: empty is no amount; text that is no amount is refused by name."""
    if not text.strip():
        return None
    amount = amounts.number(text)  # `12,500`, `$12,500.00`, `12 500 €`; not `1,5`
    if amount is None:
        raise Invalid(f"amount: {amounts.shown(text)} is not an amount (a number, such as 12500)")
    return amounts.checked(amount, "amount", given=text)  # 400 nines: named as typed, not inf


@router.get("/leads/{key}")
def lead_page(
    key: str, request: Request, session: DbSession, now: Now, seen: Reader
) -> HTMLResponse:
    return _lead_view(key, request, session, now, seen)


def _lead_view(
    key: str, request: Request, session: DbSession, now: datetime, seen: Viewer,
    error: str | None = None,
) -> HTMLResponse:  # fmt: skip
    """The lead's page; `error` is what an action on it just answered (never from the query:
    a link would put its own words on the page as the app's)."""
    book = playbooks.active_playbook(session)
    try:
        lead = leads.find(session, key)
        _allowed(seen, lead, Permission.READ)
        detail = leads.detail(session, key, book, now)
    except NotFound:
        response = page(request, "error.html", seen, title="No such lead",
                        message=f"There is no lead {key!r}.")  # fmt: skip
        response.status_code = 404
        return response
    detail["events"] = leads.timeline(session, detail["id"], limit=50)
    scored = {str(e) for c in detail["contributions"] for e in c["events"]}
    detail["moments"] = _moments(detail, scored)
    detail["history"] = _history(detail)
    may_accept = reps.may_accept(session, lead.owner, seen.user.email)
    return page(request, "lead.html", seen, lead=detail, error=error, may_accept=may_accept)


def _history(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The timeline, newest first: every stage move among the latest events, in its place."""
    moves = [{"at": c["at"], "move": c} for c in detail["stage_history"]]
    events = [{"at": e["at"], "event": e, "team": _team_entry(e)}
              for e in detail["events"][:TIMELINE_EVENTS]]  # fmt: skip
    return sorted(moves + events, key=lambda item: _moment(item["at"]), reverse=True)


def _team_entry(event: dict[str, Any]) -> dict[str, str] | None:
    """The team's own note or touch, with who wrote it; None for any other (tracked) event.

    Told by where it was stored (`core.team_events`), never by its name: anybody holding the
    public write key can send a "Note Added" with any text and author.
    """
    words = team_events.team_words(event["name"], event["source"], event["properties"])
    return None if words is None else {"what": words.what, "by": words.by, "text": words.said}


def _moment(stamp: str) -> datetime:
    """An ISO time as an aware moment (the database may hand a time back without its zone)."""
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moments(detail: dict[str, Any], scored: set[str]) -> list[dict[str, Any]]:
    """What mattered, newest first: every stage move, and the events that earned points."""
    moves = [{"at": c["at"], "what": f"{c['from'] or 'new'} → {c['to']}", "why": c["reason"]}
             for c in detail["stage_history"]]  # fmt: skip
    earned = [{"at": e["at"], "what": e["name"] or e["type"],
               "why": (e["properties"] or {}).get("path") or "scored"}
              for e in detail["events"] if str(e["id"]) in scored]  # fmt: skip
    return sorted(moves + earned, key=lambda m: m["at"], reverse=True)[:12]


@router.get("/dashboard")
def dashboard(
    request: Request, session: ReadSession, now: Now, seen: Reader, period: str | None = None
) -> HTMLResponse:
    book = playbooks.active_playbook(session)
    error = None
    try:
        cohort = reports.cohort_for(Cohort(), period or None)
    except LeadflowError as exc:  # a mistyped period: say so, show all time
        error, period, cohort = exc.message, None, Cohort()
    # All time from the worker's snapshot (shown with its time), a period computed now.
    data, as_of = snapshots.dashboard(session, book, cohort, period or None, now)
    return page(request, "dashboard.html", seen, data=data, charts=_charts(data),
                period=period or "", error=error, as_of=as_of,
                mql_span=period or _month_of(data["speed"]["marketing"]["start"]))  # fmt: skip


def _month_of(start: str) -> str:
    """The month MQLs are counted in when no period is asked ("Nov 2026"): the commitment is
    monthly, so all time counts this month's, and says so beside the all-time figures."""
    return _moment(start).strftime("%b %Y")


def _charts(data: dict[str, Any]) -> dict[str, Any]:
    """What each chart plots, as plain lists for Chart.js."""
    funnel = data["funnel"]["rows"]

    def pairs(report: str, label: str, value: str, ordered: bool = False) -> dict[str, list[Any]]:
        """Ordered categories (score bands, deciles) in their own order, all of them; the
        others (sources, campaigns, personas) biggest first, the top 12."""
        rows = data[report]["rows"]
        if not ordered:
            rows = sorted(rows, key=lambda r: -(r[value] or 0))[:12]
        labels = ["(none)" if r[label] is None else str(r[label]) for r in rows]
        return {"labels": labels, "values": [r[value] or 0 for r in rows]}

    return {
        "funnel": {
            "labels": [r["stage"] for r in funnel],
            "values": [r["reached"] for r in funnel],
        },
        "sources": pairs("sources", "source", "lead_to_customer"),
        "campaigns": pairs("campaigns", "campaign", "revenue"),
        "personas": pairs("personas", "persona", "lead_to_customer"),
        "bands": pairs("bands", "score_band", "lead_to_customer", ordered=True),
        "attribution": pairs("attribution", "campaign", "linear"),
        "calibration": pairs("calibration", "decile", "win_rate", ordered=True),
        "speed": {"labels": [r["bucket"] for r in data["speed"]["distribution"]],
                  "values": [r["handoffs"] for r in data["speed"]["distribution"]]},
        **_drift_chart(data["drift"]),
    }  # fmt: skip


CHARTED_DRIFT = ("calibrated", "drifted")


def _drift_chart(drift: dict[str, Any]) -> dict[str, Any]:
    """Predicted against actual by decile, this period and at validation, as (x, y) points;
    nothing when there is no model or too few outcomes to judge (the card says so)."""
    if drift["status"] not in CHARTED_DRIFT:
        return {}
    rows = drift["rows"]
    return {"drift": {
        "reliability": True,
        "period": [{"x": r["predicted"], "y": r["actual"]} for r in rows if r["leads"]],
        "validation": [{"x": r["validation_predicted"], "y": r["validation_actual"]}
                       for r in rows if r["validation_leads"]],
    }}  # fmt: skip


def safe_path(path: str) -> str:
    """Only a local path to return to after signing in (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") else "/"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"
