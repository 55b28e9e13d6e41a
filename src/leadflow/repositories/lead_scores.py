"""Reading the lead_scores view in "changed since" order, one page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from leadflow.models.lead_scores import lead_scores

PAGE = 5_000


def changed_since(session: Session, since: datetime | None) -> Iterator[dict[str, Any]]:
    """Every row of the view changed at or after `since` (all rows without it), oldest change
    first; pages by (updated_at, lead_id) so each page is an index range scan."""
    view = lead_scores.c
    after: tuple[datetime, int] | None = None
    while True:
        query = select(lead_scores).order_by(view.updated_at, view.lead_id).limit(PAGE)
        if since is not None:
            query = query.where(view.updated_at >= since)
        if after is not None:
            at, lead_id = after
            query = query.where(
                or_(view.updated_at > at, and_(view.updated_at == at, view.lead_id > lead_id))
            )
        rows = [dict(row) for row in session.execute(query).mappings()]
        yield from rows
        if len(rows) < PAGE:
            return
        after = (rows[-1]["updated_at"], rows[-1]["lead_id"])
