"""A bulk write of a large share of a table sets the table's indexes aside and rebuilds them
(SQLite; PostgreSQL keeps them): afterwards the same indexes exist, unique ones stay
meanwhile (ON CONFLICT needs them), a rollback brings them back, and a small write never
drops one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from leadflow.models import Lead
from leadflow.repositories import _rebuild, leads
from leadflow.repositories._sql import table_of
from tests.repositories.conftest import NOW
from tests.repositories.statements import starting, statements_run


@contextmanager
def _dropped(session: Session) -> Iterator[list[str]]:
    """The names of the indexes dropped meanwhile."""
    with statements_run(session) as seen:
        names: list[str] = []
        yield names
    names += [text.split()[-1].strip('"') for text in starting(seen, "DROP INDEX")]


def _indexes(session: Session) -> set[tuple[str, str]]:
    """The declared indexes of `leads` with their definitions."""
    if session.get_bind().dialect.name == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'leads'"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads'"
    return {(name, sql) for name, sql in session.execute(text(query)).all()}


def _rows(group: str, count: int) -> list[dict[str, Any]]:
    return [
        {"email": f"{group}{i}@example.com", "last_name": f"L{i % 7}", "source": "ads",
         "created_at": NOW - timedelta(seconds=i), "updated_at": NOW}
        for i in range(count)
    ]  # fmt: skip


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk write from 10 rows on, so the tests stay small."""
    monkeypatch.setattr(_rebuild, "AT_LEAST", 10)


@pytest.mark.usefixtures("small_bulk")
def test_a_big_insert_rebuilds_every_index_but_the_unique_ones(session: Session) -> None:
    # a declared unique index (a constraint: it must hold, and stay, meanwhile)
    session.execute(text("CREATE UNIQUE INDEX ux_leads_test ON leads (email, source)"))
    before = _indexes(session)
    with _dropped(session) as dropped:
        assert leads.upsert_many(session, _rows("a", 40)) == 40
        # the same e-mails again: ON CONFLICT still finds them (the unique index stayed)
        assert leads.upsert_many(session, _rows("a", 40)) == 40
    assert _indexes(session) == before
    assert session.scalar(select(func.count()).select_from(Lead)) == 40
    if session.get_bind().dialect.name == "postgresql":
        assert dropped == []
        return
    declared = {name for name, sql in before if sql is not None}
    assert set(dropped) == declared - {"ux_leads_test"}, "every declared non-unique index"
    plan = session.execute(text("EXPLAIN QUERY PLAN SELECT id FROM leads WHERE stage = 'x'"))
    assert "ix_leads_" in " ".join(str(row[-1]) for row in plan), "the indexes serve again"


@pytest.mark.usefixtures("small_bulk")
def test_an_update_of_a_small_share_keeps_the_indexes(session: Session) -> None:
    leads.upsert_many(session, _rows("a", 200))
    ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))
    with _dropped(session) as dropped:
        leads.set_stages(session, [(i, "subscriber", "lead") for i in ids[:40]], at=NOW)
    assert dropped == []
    with _dropped(session) as dropped:
        leads.set_stages(session, [(i, "subscriber", "mql") for i in ids[:150]], at=NOW)
    if session.get_bind().dialect.name == "sqlite":
        assert "ix_leads_stage_total" in dropped
        assert "ix_leads_account_last_name" not in dropped, "only indexes on the columns set"
    stages = dict(session.execute(select(Lead.stage, func.count()).group_by(Lead.stage)).all())
    assert stages == {"mql": 150, "subscriber": 50}


@pytest.mark.usefixtures("small_bulk")
def test_a_rolled_back_bulk_write_leaves_the_indexes_as_they_were(session: Session) -> None:
    before = _indexes(session)
    savepoint = session.begin_nested()
    leads.upsert_many(session, _rows("a", 40))
    savepoint.rollback()
    assert _indexes(session) == before
    assert session.scalar(select(func.count()).select_from(Lead)) == 0


@pytest.mark.usefixtures("small_bulk")
def test_a_failing_bulk_write_reports_its_own_error_and_leaves_the_indexes(
    session: Session,
) -> None:
    before = _indexes(session)
    with pytest.raises(ZeroDivisionError), _rebuild.rewriting(session, table_of(Lead), 40, None):
        raise ZeroDivisionError
    assert _indexes(session) == before


def _created(seen: list[tuple[str, Any]]) -> list[str]:
    """The names of the indexes created by these statements."""
    return [text.split(" ON ")[0].split()[-1].strip('"') for text in starting(seen, "CREATE INDEX")]


@pytest.mark.usefixtures("small_bulk")
def test_bulk_writes_within_once_set_each_index_aside_once_and_rebuild_it_once(
    session: Session,
) -> None:
    before = _indexes(session)
    with statements_run(session) as seen, _rebuild.once(session):
        leads.upsert_many(session, _rows("a", 40))
        ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))
        leads.set_stages(session, [(i, "subscriber", "lead") for i in ids], at=NOW)
        leads.set_stages(session, [(i, "lead", "mql") for i in ids], at=NOW)
        if session.get_bind().dialect.name == "sqlite":
            assert _created(seen) == [], "nothing rebuilt before the end"
    assert _indexes(session) == before
    stages = dict(session.execute(select(Lead.stage, func.count()).group_by(Lead.stage)).all())
    assert stages == {"mql": 40}
    if session.get_bind().dialect.name == "postgresql":
        assert starting(seen, "DROP INDEX") == []
        return
    dropped = [text.split()[-1].strip('"') for text in starting(seen, "DROP INDEX")]
    declared = sorted(name for name, sql in before if sql is not None)
    assert sorted(dropped) == declared, "each index set aside once"
    assert sorted(_created(seen)) == declared, "and rebuilt once"


@pytest.mark.usefixtures("small_bulk")
def test_settle_rebuilds_within_once_and_a_later_write_sets_aside_again(
    session: Session,
) -> None:
    before = _indexes(session)
    with _rebuild.once(session):
        leads.upsert_many(session, _rows("a", 40))
        _rebuild.settle(session)
        assert _indexes(session) == before, "what a selective read needs is back"
        leads.upsert_many(session, _rows("b", 60))
    assert _indexes(session) == before
    assert session.scalar(select(func.count()).select_from(Lead)) == 100


@pytest.mark.usefixtures("small_bulk")
def test_once_rebuilds_after_a_savepoint_that_brought_indexes_back(session: Session) -> None:
    before = _indexes(session)
    with _rebuild.once(session):
        savepoint = session.begin_nested()
        leads.upsert_many(session, _rows("a", 40))
        savepoint.rollback()
        leads.upsert_many(session, _rows("b", 40))
    assert _indexes(session) == before
    assert session.scalar(select(func.count()).select_from(Lead)) == 40


@pytest.mark.usefixtures("small_bulk")
def test_once_rebuilds_what_a_rolled_back_savepoint_set_aside_again(session: Session) -> None:
    # Rebuilt inside a savepoint that is then rolled back: the index is gone again (the
    # rollback restores the job's state), and the job's end must still bring it back.
    before = _indexes(session)
    with _rebuild.once(session):
        leads.upsert_many(session, _rows("a", 40))
        savepoint = session.begin_nested()
        _rebuild.settle(session)
        savepoint.rollback()
    assert _indexes(session) == before
    assert session.scalar(select(func.count()).select_from(Lead)) == 40
