"""The worker folds the leads' tallies once enough rows were appended, and a fold loses no
lead written meanwhile by another transaction (PostgreSQL: several writers at once)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from leadflow.core.report_math import Cohort
from leadflow.models.db import make_session_factory
from leadflow.models.lead import Lead
from leadflow.models.lead_tally import LeadTally
from leadflow.repositories import lead_tallies
from leadflow.services import reporting
from leadflow.worker import Worker


def _leads(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        return lead_tallies.lacking(session, Cohort(), [])[0]


def _rows(engine: Engine, *, folded: bool | None = None) -> int:
    query = select(func.count()).select_from(LeadTally)
    if folded is not None:
        query = query.where(LeadTally.folded.is_(folded))
    with make_session_factory(engine)() as session:
        return int(session.scalar(query) or 0)


def test_the_worker_folds_once_enough_rows_were_appended(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lead_tallies, "FOLD_AFTER", 10)
    monkeypatch.setattr(reporting.fold_tallies, "__kwdefaults__", {"at_least": 10})
    monkeypatch.setattr(reporting.tallies_to_fold, "__kwdefaults__", {"at_least": 10})
    factory = make_session_factory(engine)
    worker = Worker(factory)
    for k in range(6):  # one statement each: a row each (PostgreSQL groups a statement's)
        with factory() as session, session.begin():
            session.add(Lead(email=f"p{k}@x.example", source="ads"))
    assert not worker.fold_tallies()  # 6 appended: not yet
    assert _rows(engine, folded=False) == 6
    with factory() as session, session.begin():
        for lead in session.scalars(select(Lead)):
            lead.stage = "mql"  # -1 to the old group, +1 to the new
            session.flush()
    assert worker.fold_tallies()
    assert _rows(engine, folded=False) == 0
    assert _rows(engine) == 1  # six leads in one group, in one row
    assert _leads(engine) == 6


def test_a_fold_loses_no_lead_another_transaction_writes_meanwhile(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        session.add_all(Lead(email=f"a{k}@x.example") for k in range(3))
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: no other transaction writes meanwhile")
    with factory() as writer, factory() as folder:
        writer.begin()
        writer.add(Lead(email="late@x.example"))
        writer.flush()  # appended, not committed: the fold cannot see it
        with factory() as other, other.begin():
            other.add(Lead(email="later@x.example"))  # appended after it, committed first
        with folder.begin():
            lead_tallies.fold(folder)
        writer.commit()
    assert _leads(engine) == 5
    with factory() as session, session.begin():
        lead_tallies.fold(session)
    assert _leads(engine) == 5 and _rows(engine) == 1
