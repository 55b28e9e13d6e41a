"""The notifications page: a person's in-app alerts, newest first, marked read one by one or
all at once. Everyone sees only their own (`services.access.notifications_of`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadflow.api.deps import DbSession, Now
from leadflow.api.strict_body import BoundedRoute
from leadflow.core.errors import NotFound
from leadflow.services import notifications
from leadflow.web.auth import Seen, check_csrf
from leadflow.web.pages import page

router = APIRouter(include_in_schema=False, route_class=BoundedRoute)


@router.get("/notifications")
def inbox(request: Request, session: DbSession, seen: Seen) -> HTMLResponse:
    found = notifications.listing(session, seen.user)
    return page(request, "notifications.html", seen, notes=found)


@router.get("/notifications/rows")
def inbox_rows(request: Request, session: DbSession, seen: Seen) -> HTMLResponse:
    found = notifications.listing(session, seen.user)
    return page(request, "_notification_rows.html", seen, notes=found)


@router.post("/notifications/read")
async def read_all(request: Request, session: DbSession, now: Now, seen: Seen) -> Response:
    await check_csrf(request, seen)
    notifications.mark_read(session, seen.user, None, now)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{note_id}/read")
async def read_one(
    note_id: int, request: Request, session: DbSession, now: Now, seen: Seen
) -> Response:
    await check_csrf(request, seen)
    try:
        notifications.mark_read(session, seen.user, [note_id], now)
    except NotFound as exc:
        response = page(request, "error.html", seen, title="No such notification",
                        message=exc.message)  # fmt: skip
        response.status_code = 404
        return response
    return RedirectResponse("/notifications", status_code=303)
