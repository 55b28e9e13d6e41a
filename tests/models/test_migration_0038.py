"""0038 gives PostgreSQL's `ix_leads_cracks` the leads' ids (`INCLUDE (id)`), replacing the
index 0034 made under the same name, so the fallen-through report reads a stage's leads from
the index alone; SQLite's index (which holds the rowid) is left as it was. Downgrading puts
0034's index back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.db import downgrade, make_engine, upgrade
from leadflow.repositories import fallen_through

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
# Two sales-ready leads, one nobody owns: the cracks read both kinds.
LEAD = (
    "INSERT INTO leads (id, email, owner, attributes, stage, fit, engagement, total,"
    " contributions, created_at, updated_at) VALUES (:id, :e, :owner, '{}', 'sql', 0, 0, 0,"
    " '[]', :t, :t)"
)


def _cracks_index(engine: Engine) -> list[str]:
    """The index's definition: PostgreSQL's text, or SQLite's columns (key and rowid)."""
    with engine.connect() as db:
        if engine.dialect.name == "postgresql":
            query = text(
                "SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN ''"
                " ELSE ' INVALID' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname LIKE 'ix_leads_cracks%'"
            )
            return [row[0] for row in db.execute(query)]
        return [str(row[2]) for row in db.execute(text("PRAGMA index_xinfo(ix_leads_cracks)"))]


def _plan(engine: Engine) -> str:
    """PostgreSQL's plan of the report's page and counts, the table's own scans ruled out (a
    table of few rows is otherwise read whole)."""
    with engine.begin() as db:
        for lead, owner in ((1, None), (2, "ana@x.example")):
            db.execute(text(LEAD), {"id": lead, "e": f"l{lead}@x.io", "owner": owner, "t": NOW})
    # As autovacuum leaves a live table: statistics, and its pages marked all-visible (which
    # an index-only scan needs, or it reads the rows anyway).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM (ANALYZE) leads"))
    with Session(engine) as session, session.begin():
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        plans = []
        conn = session.connection()

        def explain(_c: object, _cur: object, statement: str, params: object, *_: object) -> None:
            if statement.startswith("SELECT"):
                plans.append(conn.exec_driver_sql("EXPLAIN " + statement, params).scalars())

        from sqlalchemy import event

        event.listen(conn, "before_cursor_execute", explain)
        fallen_through.fallen_through(session, Cohort(), ["sql"], NOW, 10)
        event.remove(conn, "before_cursor_execute", explain)
    return "\n".join(line for plan in plans for line in plan)


def test_0038_gives_postgresqls_cracks_index_the_ids(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0034")
    before = _cracks_index(engine)
    upgrade(engine)
    after = _cracks_index(engine)
    downgrade(engine, "0034")
    back = _cracks_index(engine)
    upgrade(engine)
    if engine.dialect.name == "postgresql":
        columns = "USING btree (stage, owner, email, stage_changed_at)"
        assert before == [f"CREATE INDEX ix_leads_cracks ON public.leads {columns}"]
        assert after == [f"CREATE INDEX ix_leads_cracks ON public.leads {columns} INCLUDE (id)"]
        plan = _plan(engine)
        assert plan.count("Index Only Scan using ix_leads_cracks") >= 2, plan
        assert "Index Scan using ix_leads_cracks" not in plan, plan
    else:
        assert before == after == ["stage", "owner", "email", "stage_changed_at", "None"]
    assert back == before
    engine.dispose()
