"""0037 fills in won leads' credit per campaign (`won_credit`) from the won leads, their
opportunity moves and their kept touches stored before it: the same rows the writers keep
from then on (`closed_rollups.refresh`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine, upgrade
from leadflow.repositories import closed_rollups

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " outcome, outcome_amount, campaign, closed_at, created_at, updated_at) VALUES (:id, :e,"
    " '{}', 'lead', 0, 0, 0, '[]', :outcome, :amount, :campaign, :closed, :t, :t)"
)
EVENT = (
    "INSERT INTO events (lead_id, source, message_id, type, campaign, properties, context,"
    " occurred_at, received_at) VALUES (:lead, 'web', :m, 'page', :campaign, '{}', '{}', :t,"
    " :t)"
)
MOVE = (
    "INSERT INTO stage_changes (lead_id, from_stage, to_stage, at, reason, actor)"
    " VALUES (:lead, 'sql', 'opportunity', :t, 'test', 'ana')"
)
T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours, microseconds=hours * 7)


# (id, outcome, amount, acquiring campaign, closed after hours): won with and without an
# acquiring campaign and an amount, lost, open, won with no closing time (raw imports).
LEADS = [
    (1, "won", 1000.0, "spring", 100.0), (2, "won", 333.33, None, 50.0),
    (3, "lost", 50.0, "spring", 20.0), (4, None, None, "fall", None),
    (5, "won", None, "fall", None), (6, "won", 70.0, None, 10.0),
]  # fmt: skip
# (lead, campaign, hours after T0)
EVENTS = [
    (1, "digest", 10.0), (1, "retarget", 30.0), (1, "digest", 60.0), (1, "late", 120.0),
    (2, "fall", 1.0), (2, "fall", 2.0), (2, "digest", 40.0), (3, "digest", 5.0),
    (4, "spring", 1.0), (5, "digest", 3.0),
]  # fmt: skip
MOVES = [(1, 20.0), (1, 45.0), (2, 30.0)]  # into opportunity: the latest counts


def _rows(db: Any) -> list[tuple[Any, ...]]:
    query = text("SELECT * FROM won_credit ORDER BY lead_id, campaign")
    return [tuple(r) for r in db.execute(query)]


def test_0037_fills_in_as_the_writers_keep(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    with engine.begin() as db:
        for lead, outcome, amount, campaign, closed in LEADS:
            closed_at = None if closed is None else _at(closed)
            db.execute(text(LEAD), {"id": lead, "e": f"l{lead}@x.io", "outcome": outcome,
                                    "amount": amount, "campaign": campaign,
                                    "closed": closed_at, "t": T0})  # fmt: skip
        for k, (lead, campaign, hours) in enumerate(EVENTS):
            db.execute(text(EVENT), {"lead": lead, "m": f"m{k}", "campaign": campaign,
                                     "t": _at(hours)})  # fmt: skip
        for lead, hours in MOVES:
            db.execute(text(MOVE), {"lead": lead, "t": _at(hours)})
    upgrade(engine)
    with engine.connect() as db:
        migrated = _rows(db)
    with Session(engine) as session, session.begin():
        closed_rollups.backfill_all(session)
        kept = _rows(session)
    engine.dispose()
    assert migrated == kept
    by_lead: dict[int, float] = {}
    for row in migrated:
        assert len(row) == 8  # campaign, lead and six models
        by_lead[row[1]] = by_lead.get(row[1], 0) + row[4]  # linear
    # Leads 1, 2 and 5 (5 has no amount: 0) have touches; 6 has none (no row); 3 is lost.
    assert {lead: round(total / 1e6, 2) for lead, total in by_lead.items()} == {
        1: 1000.0, 2: 333.33, 5: 0.0,
    }  # fmt: skip
