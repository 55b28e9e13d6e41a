"""0029 fills in each lead's latest event and latest page view from the events stored before
it, in one statement: the same values the writers keep from then on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from leadflow.models.db import make_engine, upgrade

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (:id, :e, '{}', 'lead', 0, 0, 0, '[]', :t, :t)"
)
EVENT = (
    "INSERT INTO events (lead_id, anonymous_id, source, message_id, type, name, properties,"
    " context, occurred_at, received_at) VALUES (:lead, :anon, 'api', :m, :type, :name, :p,"
    " '{}', :t, :t)"
)
T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# (lead, anonymous id, type, hours after T0), stored in this (not time) order.
EVENTS = [
    (1, None, "page", 5.0), (1, None, "track", 9.5), (1, None, "page", 2.0),
    (1, None, "identify", 1.0), (2, None, "track", 3.0), (2, None, "track", 0.25),
    (None, "anon", "page", 50.0),  # nobody's: counts for no lead
]  # fmt: skip


def test_0029_backfills_the_latest_event_and_page_view(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    with engine.begin() as db:
        for lead in (1, 2, 3):
            db.execute(text(LEAD), {"id": lead, "e": f"l{lead}@x.io", "t": T0})
        for k, (lead, anon, kind, hours) in enumerate(EVENTS):
            db.execute(text(EVENT), {
                "lead": lead, "anon": anon, "m": f"m{k}", "type": kind,
                "name": "Clicked" if kind == "track" else None, "p": json.dumps({}),
                "t": _at(hours),
            })  # fmt: skip
    upgrade(engine)
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT id, last_event_at, last_page_view_at FROM leads ORDER BY id")
        ).all()
    engine.dispose()
    found = [(i, _utc(latest), _utc(page)) for i, latest, page in rows]
    assert found == [(1, _at(9.5), _at(5.0)), (2, _at(3.0), None), (3, None, None)]


def _utc(value: object) -> datetime | None:
    """A stored time read back as a UTC datetime (SQLite returns text)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
