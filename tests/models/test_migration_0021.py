"""SQLite's date functions round to the millisecond: an event stored at 11:59:59.9997 read as
12:00:00.9997, a second late. 0021 puts right the times 0013 filled in that way."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from leadflow.core.event_kinds import occurred_micros
from leadflow.models.db import make_engine, upgrade

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (1, 'a@x.io', '{}', 'nurture', 0, 0, 0, '[]', :t, :t)"
)
EVENT = (
    "INSERT INTO events (lead_id, source, message_id, type, name, properties, context,"
    " occurred_at, received_at) VALUES (1, 'api', :m, 'page', NULL, :p, '{}', :t, :t)"
)
MOMENTS = [
    datetime(2026, 9, 1, 11, 59, 59, 999_997, tzinfo=UTC),  # rounds up a whole second
    datetime(2026, 9, 1, 11, 59, 59, 999_500, tzinfo=UTC),  # the first that does
    datetime(2026, 9, 1, 11, 59, 59, 999_499, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC),
]


def _stored_times(database_url: str, before_upgrade: str | None) -> dict[str, int]:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    with engine.begin() as db:
        db.execute(text(LEAD), {"t": MOMENTS[0]})
        for k, moment in enumerate(MOMENTS):
            db.execute(text(EVENT), {"m": f"m{k}", "p": json.dumps({"path": "/"}), "t": moment})
    if before_upgrade is not None:
        upgrade(engine, "0013")
        with engine.begin() as db:  # what 0013 left before it was corrected: a second late
            db.execute(text(before_upgrade))
    upgrade(engine)
    with engine.connect() as db:
        rows = db.execute(text("SELECT message_id, occurred_us FROM events")).all()
    engine.dispose()
    return {str(row[0]): int(row[1]) for row in rows}


def test_events_stored_before_0013_get_their_exact_microsecond(database_url: str) -> None:
    want = {f"m{k}": occurred_micros(moment) for k, moment in enumerate(MOMENTS)}
    assert _stored_times(database_url, None) == want


def test_0021_repairs_times_filled_in_a_second_late(sqlite_url: str) -> None:
    rounded = (
        "UPDATE events SET occurred_us = CAST(strftime('%s', occurred_at) AS INTEGER) * 1000000"
        " + CAST(substr(occurred_at || '000000', 21, 6) AS INTEGER)"
    )
    want = {f"m{k}": occurred_micros(moment) for k, moment in enumerate(MOMENTS)}
    assert _stored_times(sqlite_url, rounded) == want
