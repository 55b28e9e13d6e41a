"""The audit log page (admins): who changed what, filtered by actor, action and days."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

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
    since = now - timedelta(days=days) if days is not None else None
    try:
        rows = audit.entries(session, since=since, actor=actor, action=action, limit=PAGE_SIZE)
    except Invalid as exc:
        rows, error = [], exc.message
    filters = {"actor": actor or "", "action": action or "", "days": days_text}
    return page(
        request, "audit.html", seen, rows=[_shown(r) for r in rows], filters=filters, error=error
    )


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    details = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
    return {**row, "at": row["at"][:19].replace("T", " "), "details_text": details}
