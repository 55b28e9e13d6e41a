"""The audit log page (admins): who changed what, filtered by actor, action and days."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from leadflow.api.deps import DbSession, Now
from leadflow.api.strict_body import BoundedRoute
from leadflow.core.errors import Invalid
from leadflow.core.roles import Permission
from leadflow.services import audit
from leadflow.web.auth import Viewer, can
from leadflow.web.pages import page

router = APIRouter(include_in_schema=False, route_class=BoundedRoute)
Admin = Annotated[Viewer, Depends(can(Permission.ADMIN))]
PAGE_SIZE = 200


@router.get("/audit")
def audit_page(request: Request, session: DbSession, now: Now, seen: Admin) -> HTMLResponse:
    """The newest entries first; a bad filter value is shown next to the form, never a 500."""
    query = request.query_params
    actor = query.get("actor", "").strip()[:200] or None
    action = query.get("action", "").strip()[:100] or None
    days_text = query.get("days", "").strip()
    error = None
    days = None
    if days_text:
        if days_text.isdigit() and 0 < len(days_text) < 6:
            days = int(days_text)
        else:
            error = "days: a whole number of days, e.g. 30"
    number_text = query.get("page", "").strip()
    number = 1
    if number_text:
        if number_text.isdigit() and 0 < len(number_text) < 6 and int(number_text) > 0:
            number = int(number_text)
        else:
            error = "page: a whole number from 1"
    since = now - timedelta(days=days) if days is not None else None
    first = (number - 1) * PAGE_SIZE
    try:
        # One more than a page: whether older entries are left to show.
        rows = audit.entries(session, since=since, actor=actor, action=action,
                             limit=PAGE_SIZE + 1, offset=first)  # fmt: skip
    except Invalid as exc:
        rows, error = [], exc.message
    filters = {"actor": actor or "", "action": action or "", "days": days_text}
    kept = {name: value for name, value in filters.items() if value}
    pages = {
        "number": number,
        "first": first + 1,
        "last": first + min(len(rows), PAGE_SIZE),
        "size": PAGE_SIZE,
        "older": _link(kept, number + 1) if len(rows) > PAGE_SIZE else None,
        "newer": _link(kept, number - 1) if number > 1 else None,
    }
    shown = [_shown(r) for r in rows[:PAGE_SIZE]]
    return page(request, "audit.html", seen, rows=shown, filters=filters, error=error,
                pages=pages)  # fmt: skip


def _link(filters: dict[str, str], number: int) -> str:
    """The audit page `number` under the same filters."""
    return "/audit?" + urlencode({**filters, **({"page": str(number)} if number > 1 else {})})


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    details = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
    return {**row, "at": row["at"][:19].replace("T", " "), "details_text": details}
