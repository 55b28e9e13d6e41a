"""Score ledger: append-only; every score a lead had, when and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, insert, select
from sqlalchemy.orm import Session

from leadflow.models.score_ledger import ScoreEntry
from leadflow.repositories import _hot
from leadflow.repositories._sql import table_of

_COLUMNS = ("lead_id", "at", "event_id", "cause", "fit", "engagement", "total", "grade",
            "delta_total")  # fmt: skip


def _append() -> Insert:
    table = table_of(ScoreEntry)
    return insert(table).values({c: bindparam(c, type_=table.c[c].type) for c in _COLUMNS})


def append(
    session: Session,
    *,
    lead_id: int,
    at: datetime,
    cause: str,
    fit: float,
    engagement: float,
    total: float,
    grade: str | None,
    delta_total: float,
    event_id: int | None = None,
) -> None:
    """Log one score (cause: "event", "rescore", "playbook v3", "import", ...). On the
    driver's cursor (`_hot`): live scoring logs a score per event, and nothing reads the entry
    back in the same step."""
    row = {"lead_id": lead_id, "at": at, "event_id": event_id, "cause": cause, "fit": fit,
           "engagement": engagement, "total": total, "grade": grade,
           "delta_total": delta_total}  # fmt: skip
    _hot.run(session, "score_ledger_append", _append, row)


def append_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Log many scores in one executemany (same keys as `append`)."""
    if rows:
        session.execute(insert(table_of(ScoreEntry)), [{"event_id": None, **row} for row in rows])


def for_lead(session: Session, lead_id: int) -> list[ScoreEntry]:
    """The lead's score history, oldest first."""
    query = select(ScoreEntry).where(ScoreEntry.lead_id == lead_id)
    return list(session.scalars(query.order_by(ScoreEntry.at, ScoreEntry.id)))
