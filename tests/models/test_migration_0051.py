"""0051 joins the stays in SQL that a rep's accept split before the accept kept the stage
clock (d154547): the accept (sql -> sql) had closed a stay (`previous_entered_at`) and moved
the lead's `stage_changed_at`, so the next move out of sql counted only the time since the
accept. After it, an accept closes no stay, the move after it runs from when the lead entered
sql, and a lead still in sql is in it since it entered it (its latest move into a stage, else
its creation). Histories without an accept are left as they were."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text

from leadflow.models.db import make_engine, upgrade

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at, stage_changed_at)"
    " VALUES (:id, :e, '{}', :stage, 0, 0, 0, '[]', :created, :created, :changed)"
)
MOVE = (
    "INSERT INTO stage_changes (id, lead_id, from_stage, to_stage, at, previous_entered_at,"
    " reason, actor) VALUES (:id, :lead, :frm, :to, :at, :since, 'r', 'ana')"
)


def day(dom: int, hour: int = 0) -> datetime:
    return datetime(2026, 9, dom, hour, tzinfo=UTC)


# (lead, stage, created, stage_changed_at as the old code left it, moves as it wrote them:
# (from, to, at, previous_entered_at))
LEADS = [
    # Entered sql 09-06 01:00, accepted 09-08, an opportunity 09-10 (the report's L7).
    (1, "opportunity", day(6), day(10), [(None, "lead", day(6), None),
     ("lead", "sql", day(6, 1), day(6)), ("sql", "sql", day(8), day(6, 1)),
     ("sql", "opportunity", day(10), day(8))]),
    # Accepted, still in sql: in it since 09-02, not since the accept.
    (2, "sql", day(1), day(3), [(None, "lead", day(1), None), ("lead", "sql", day(2), day(1)),
     ("sql", "sql", day(3), day(2))]),
    # Created in sql, accepted twice, then recycled: in sql since its creation.
    (3, "nurture", day(1), day(9), [(None, "sql", day(1), None), ("sql", "sql", day(4), day(1)),
     ("sql", "sql", day(5), day(4)), ("sql", "nurture", day(9), day(5))]),
    # Created in sql and accepted: in it since its creation.
    (4, "sql", day(2), day(7), [(None, "sql", day(2), None), ("sql", "sql", day(7), day(2))]),
    # No accept: untouched, its clock set by whatever set it.
    (5, "mql", day(1), day(4, 5), [(None, "lead", day(1), None), ("lead", "mql", day(3), day(1))]),
]  # fmt: skip
# What 0051 leaves: each move's previous_entered_at, and each lead's stage_changed_at.
AFTER_MOVES = [
    [None, day(6), None, day(6, 1)],
    [None, day(1), None],
    [None, None, None, day(1)],
    [None, None],
    [None, day(1)],
]
AFTER_CLOCKS = [day(10), day(2), day(9), day(2), day(4, 5)]


def _times(engine: Engine, sql: str) -> list[datetime | None]:
    with engine.connect() as db:
        found = db.execute(text(sql)).scalars().all()
    return [_utc(value) for value in found]


def _utc(value: object) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite gives back text through raw SQL)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def test_0051_joins_the_stays_an_accept_split(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0050")
    number = 0
    with engine.begin() as db:
        for lead, stage, created, changed, moves in LEADS:
            db.execute(text(LEAD), {"id": lead, "e": f"l{lead}@x.io", "stage": stage,
                                    "created": created, "changed": changed})  # fmt: skip
            for frm, to, at, since in moves:
                number += 1
                db.execute(text(MOVE), {"id": number, "lead": lead, "frm": frm, "to": to,
                                        "at": at, "since": since})  # fmt: skip
    upgrade(engine)
    found = _times(engine, "SELECT previous_entered_at FROM stage_changes ORDER BY id")
    assert found == [since for moves in AFTER_MOVES for since in moves]
    assert _times(engine, "SELECT stage_changed_at FROM leads ORDER BY id") == AFTER_CLOCKS
    engine.dispose()
