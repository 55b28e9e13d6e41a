"""0040 replaces the index on a hand-off's lead by `ix_assignments_latest` (a lead's hand-offs
by id; on PostgreSQL with what the fallen-through report reads of them), so the report finds
each sales-ready lead's latest hand-off by an index-only probe, not by reading and sorting its
hand-offs. Downgrading puts the old index back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.db import downgrade, make_engine, upgrade
from leadflow.repositories import fallen_through
from tests.models.indexes import index_names

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
LEAD = (
    "INSERT INTO leads (id, email, owner, attributes, stage, fit, engagement, total,"
    " contributions, created_at, updated_at) VALUES (:id, :e, NULL, '{}', 'sql', 0, 0, 0,"
    " '[]', :t, :t)"
)
HANDOFF = (
    "INSERT INTO assignments (lead_id, team, stage, reason, hand_raiser, assigned_at,"
    " sla_due_at, status, escalation_level) VALUES (:lead, 'inbound', 'sql', 'test', FALSE,"
    " :t, :t, 'open', 0)"
)


def _plan(engine: Engine) -> str:
    """PostgreSQL's plan of the report's reads, the tables' own scans ruled out (a table of
    few rows is otherwise read whole), after a VACUUM as autovacuum leaves a live table."""
    with engine.begin() as db:
        for lead in (1, 2):
            db.execute(text(LEAD), {"id": lead, "e": f"l{lead}@x.io", "t": NOW})
            for _ in range(2):  # an earlier hand-off and the latest
                db.execute(text(HANDOFF), {"lead": lead, "t": NOW})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM (ANALYZE) assignments"))
    plans: list[str] = []
    with Session(engine) as session, session.begin():
        for setting in ("enable_seqscan", "enable_bitmapscan"):
            session.execute(text(f"SET LOCAL {setting} = off"))
        conn = session.connection()

        def explain(_c: object, _cur: object, statement: str, params: object, *_: object) -> None:
            if statement.startswith("SELECT") and "assignments" in statement:
                plans.extend(conn.exec_driver_sql("EXPLAIN " + statement, params).scalars())

        event.listen(conn, "before_cursor_execute", explain)
        fallen_through.fallen_through(session, Cohort(), ["sql"], NOW, 10)
        event.remove(conn, "before_cursor_execute", explain)
    return "\n".join(plans)


def test_0040_gives_postgresql_an_index_of_each_leads_latest_handoff(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    after = index_names(engine, "assignments")
    downgrade(engine, "0006")  # below 0040 (and every other head: all revise 0006 or later)
    upgrade(engine, "0006")
    back = index_names(engine, "assignments")
    upgrade(engine)
    postgresql = engine.dialect.name == "postgresql"
    assert "ix_assignments_latest" in after and "ix_assignments_lead_id" not in after
    assert "ix_assignments_latest" not in back and "ix_assignments_lead_id" in back
    if postgresql:
        plan = _plan(engine)
        assert "Index Only Scan Backward using ix_assignments_latest" in plan, plan
    engine.dispose()
