"""Leads read as Arrow columns by a child process hold exactly what rows through the driver do."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from leadflow.core.bulk_columns import Coded, encode
from leadflow.core.playbook_text import parse_playbook
from leadflow.models import Lead
from leadflow.models.db import make_engine, make_session_factory
from leadflow.repositories import _arrow
from leadflow.services import rescore_leads
from leadflow.services.rescore import rescore_all
from leadflow.services.rescore_leads import LeadRows
from tests.conftest import Migrate
from tests.services.test_rescore import B2B, NOW, ODD_PATHS, populate

# Every kind of source but whole rows (a nested attribute path reads whole rows).
BUDGET = "{field: prefs.chair.budget, gte: 500}"
FLAT_PATHS = ODD_PATHS.replace(f", {BUDGET}]}}", "]}").replace(
    f"    - {{id: budget, label: Budget, points: 7.25, when: {BUDGET}}}\n", ""
)


@pytest.fixture
def engine(sqlite_url: str, migrate: Migrate) -> Iterator[Engine]:
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session, session.begin():
        populate(session, seed=13, leads=80, events=300)
    yield engine
    engine.dispose()


def _typed(column: Any, size: int) -> list[tuple[type, Any]]:
    coded: Coded = encode(column)
    assert len(coded.codes) == size
    return [(type(v), v) for v in (coded.values[c] for c in coded.codes.tolist())]


def _contents(rows: LeadRows) -> dict[str, Any]:
    size = len(rows.ids)
    stored = rows.stored
    return {
        "ids": rows.ids.tolist(),
        "accounts": rows.account_ids.tolist(),
        "facts": {p: _typed(c, size) for p, c in rows.columns.facts.items()},
        "tier": _typed(rows.columns.tier, size),
        "numbers": [stored.fit.tolist(), stored.engagement.tolist(), stored.total.tolist()],
        "labels": [stored.grade.tolist(), stored.persona.tolist()],
        "contributions": list(stored.contributions.to_pylist()),
    }


def _read_both(session: Session, text: str) -> tuple[LeadRows, LeadRows]:
    book = parse_playbook(text)
    wanted = rescore_leads.selection(book, rescore_leads.lead_paths(book))
    assert rescore_leads.rescoring_reads.read_leads_arrow(session, wanted) is not None
    by_arrow = rescore_leads.read_leads(session, book, None)
    every_id = session.scalars(Lead.__table__.select().with_only_columns(Lead.id)).all()
    by_rows = rescore_leads.read_leads(session, book, sorted(every_id))
    return by_arrow, by_rows


@pytest.mark.parametrize("text", [B2B.read_text(), FLAT_PATHS], ids=["b2b", "flat_paths"])
def test_arrow_columns_equal_rows(engine: Engine, text: str) -> None:
    with make_session_factory(engine)() as session, session.begin():
        by_arrow, by_rows = _read_both(session, text)
        assert _contents(by_arrow) == _contents(by_rows)


def test_whole_rows_are_read_as_rows(engine: Engine) -> None:
    with make_session_factory(engine)() as session, session.begin():
        book = parse_playbook(ODD_PATHS)
        wanted = rescore_leads.selection(book, rescore_leads.lead_paths(book))
        assert wanted.whole
        assert rescore_leads.rescoring_reads.read_leads_arrow(session, wanted) is None


def test_a_column_of_mixed_types_is_read_as_rows(engine: Engine) -> None:
    with engine.begin() as connection:  # SQLite keeps text that is no number as it is
        connection.exec_driver_sql("UPDATE accounts SET employees = 'many' WHERE id = 1")
    with make_session_factory(engine)() as session, session.begin():
        book = parse_playbook(B2B.read_text())
        wanted = rescore_leads.selection(book, rescore_leads.lead_paths(book))
        assert rescore_leads.rescoring_reads.read_leads_arrow(session, wanted) is None
        rows = rescore_leads.read_leads(session, book, None)
        sizes = _typed(rows.columns.facts["account.employees"], len(rows.ids))
        at_first = [k for k, a in enumerate(rows.account_ids.tolist()) if a == 1]
        assert at_first and all(sizes[k] == (str, "many") for k in at_first)
        assert {t for t, _ in sizes} == {str, int, type(None)}


def _a_full_rescore(engine: Engine) -> list[tuple[Any, ...]]:
    """Every lead's stored score after a full re-score, rolled back."""
    book = parse_playbook(B2B.read_text())
    with make_session_factory(engine)() as session, session.begin():
        rescore_all(session, book, NOW)
        columns = (Lead.id, Lead.fit, Lead.engagement, Lead.total, Lead.grade, Lead.persona)
        stored = session.execute(select(*columns, Lead.contributions).order_by(Lead.id)).all()
        session.rollback()
    return [tuple(row) for row in stored]


def test_a_rescore_whose_child_reads_die_reads_rows_and_scores_alike(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A child killed (out of memory, by an operator) costs time, never the command."""
    read_by_children = _a_full_rescore(engine)
    dying = tmp_path / "dying.py"
    dying.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    monkeypatch.setattr(_arrow, "_CHILD", dying)
    assert _a_full_rescore(engine) == read_by_children
    assert "killed by signal 9" in caplog.text


def test_a_rescore_failing_while_its_events_are_read_ahead_leaves_no_child_behind(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    children: list[subprocess.Popen[bytes]] = []
    start = _arrow.start

    def recorded(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        children.append(start(*args, **kwargs))
        return children[-1]

    def failing(*args: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(_arrow, "start", recorded)
    monkeypatch.setattr(rescore_leads, "read_leads", failing)
    with pytest.raises(OSError, match="disk gone"):
        _a_full_rescore(engine)
    assert children  # the events were being read ahead
    assert all(child.returncode is not None for child in children)  # stopped and reaped
