"""Upgrading a database with history to 0004 backfills what the reports read."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from leadflow.models.db import downgrade, make_engine, upgrade

TABLES = ("leads", "stage_changes", "events")

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (1, 'a@x.io', '{}', 'nurture', 0, 0, 0, '[]', :t, :t)"
)
MOVE = (
    "INSERT INTO stage_changes (lead_id, from_stage, to_stage, at, reason, actor)"
    " VALUES (1, :f, :to, :at, 'r', 'system')"
)
EVENT = (
    "INSERT INTO events (lead_id, source, message_id, type, name, properties, context,"
    " occurred_at, received_at) VALUES (1, 'api', :m, :type, NULL, :p, :c, :t, :t)"
)


def test_0004_backfills_ranks_entry_times_and_event_lookups(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0003")
    t0, t1, t2 = (datetime(2026, 9, day, tzinfo=UTC) for day in (1, 3, 5))
    with engine.begin() as db:
        db.execute(text(LEAD), {"t": t0})
        for frm, to, at in ((None, "lead", t0), ("lead", "sql", t1), ("sql", "nurture", t2)):
            db.execute(text(MOVE), {"f": frm, "to": to, "at": at})
        events = [
            ("m1", "page", '{"path": "/pricing"}', '{"campaign": {"name": "spring"}}'),
            ("m2", "track", '{"utm_campaign": "fall", "path": "/x"}', "{}"),
            ("m3", "track", '{"campaign": 7}', "{}"),
        ]
        for message, kind, properties, context in events:
            db.execute(text(EVENT), {"m": message, "type": kind, "p": properties,
                                     "c": context, "t": t1})  # fmt: skip
    upgrade(engine)
    with engine.connect() as db:
        assert db.execute(text("SELECT reached_rank FROM leads")).scalar() == 3  # it was an SQL
        entered = db.execute(
            text("SELECT to_stage, previous_entered_at FROM stage_changes ORDER BY id")
        ).all()
        assert [row[0] for row in entered] == ["lead", "sql", "nurture"]
        assert entered[0][1] is None  # the first move left no stage
        assert [str(row[1])[:10] for row in entered[1:]] == ["2026-09-01", "2026-09-03"]
        lookups = db.execute(
            text("SELECT message_id, campaign, path FROM events ORDER BY message_id")
        ).all()
        assert [tuple(row) for row in lookups] == [
            ("m1", "spring", "/pricing"), ("m2", "fall", None), ("m3", None, None)]  # fmt: skip
    downgrade(engine, "0003")  # and back: no table is re-created, so nothing cascades away
    with engine.connect() as db:
        counts = [db.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES]
        assert counts == [1, 3, 3]
    engine.dispose()
