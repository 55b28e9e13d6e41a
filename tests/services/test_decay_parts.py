"""The decay pass written in parts: each part in a transaction of its own gives what writing
the whole pass at once gives, and a tracking call waits for one part, never for the pass.

At a million leads a pass five minutes after the last writes some 37,000 leads; in one
transaction that held the write lock (and so every tracking call) for seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from leadflow import worker as worker_module
from leadflow.models import Lead, RuleState, ScoreEntry
from leadflow.repositories import _arrow, _copy, state_columns
from leadflow.services import decay_refresh, playbooks, privacy
from leadflow.services.pipeline import run_decay
from leadflow.worker import Worker
from tests.services.test_live_state import (
    ODD_PATHS,
    Committed,
    committed,
    feed_live_one,
    lead_rows,
)

__all__ = ["committed"]  # the fixture, shared with the live state's tests


def moments(session: Session) -> dict[int, Any]:
    """Every lead's moment of change."""
    return dict(session.execute(select(Lead.id, Lead.decay_due)).all())


def the_whole_pass(c: Committed) -> tuple[decay_refresh.Refreshed, dict[int, Any], dict[Any, Any]]:
    """The pass written at once, rolled back: what it wrote, the leads and states after it."""
    with c.factory() as session, session.begin():
        result = decay_refresh.refresh(session, c.book, c.later)
        after = lead_rows(session), moments(session)
        session.rollback()
    return result, *after


def test_parts_hold_at_most_so_many_leads_to_write_and_cover_the_plan(committed: Committed) -> None:
    with committed.factory() as session, session.begin():
        planned = decay_refresh.plan(session, committed.book, committed.later)
    split = decay_refresh.parts(planned, 3)
    assert len(split) > 2
    ids = [part.aged.ids for part in split]
    assert np.concatenate(ids).tolist() == planned.aged.ids.tolist()  # each lead once, in order
    written = np.concatenate([part.aged.ids[part.rows] for part in split])
    assert written.tolist() == planned.aged.ids[planned.rows].tolist()

    def new_moments(p: decay_refresh.Planned) -> list[int]:
        return p.aged.ids[p.due != p.stored_due].tolist()

    for part in split:
        assert len(set(part.aged.ids[part.rows].tolist()) | set(new_moments(part))) <= 3
    assert [i for part in split for i in new_moments(part)] == new_moments(planned)
    assert new_moments(planned)  # the scenario has moments to write


def test_a_pass_written_in_parts_equals_the_pass_written_at_once(committed: Committed) -> None:
    whole, leads, states = the_whole_pass(committed)
    assert whole.changed > 3
    with committed.factory() as session, session.begin():
        planned = decay_refresh.plan(session, committed.book, committed.later)
    changed: list[int] = []
    for part in decay_refresh.parts(planned, 3):
        with committed.factory() as session, session.begin():
            changed += decay_refresh.write(
                session, committed.book, part, committed.later
            ).changed_ids
    assert changed == whole.changed_ids
    with committed.factory() as session:
        assert lead_rows(session) == leads
        assert moments(session) == states


@pytest.mark.parametrize("staged", [False, True], ids=["row-by-row", "staged"])
def test_a_lead_scored_live_between_two_parts_keeps_its_live_score(
    committed: Committed, staged: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if staged:  # PostgreSQL writes many rows through a staging table: even these few
        monkeypatch.setattr(_copy, "COPY_FROM", 1)
    factory, book, _, later = committed
    with factory() as session, session.begin():
        planned = decay_refresh.plan(session, book, later)
    first, *rest = decay_refresh.parts(planned, 2)
    with factory() as session, session.begin():
        decay_refresh.write(session, book, first, later)
    waiting = int(rest[0].aged.ids[rest[0].rows][0])  # to be aged by the next part
    with factory() as live, live.begin():
        fresh = feed_live_one(live, book, waiting, later)
    with factory() as session:
        live_moment = moments(session)[waiting]
    for part in rest:
        with factory() as session, session.begin():
            result = decay_refresh.write(session, book, part, later)
            assert waiting not in result.changed_ids
    with factory() as session:
        assert lead_rows(session)[waiting] == fresh
        # Nor its ledger nor its moment of change: the pass left the lead alone.
        causes = session.scalars(select(ScoreEntry.cause).where(ScoreEntry.lead_id == waiting))
        assert "decay" not in set(causes)
        assert moments(session)[waiting] == live_moment


def test_the_worker_writes_its_pass_a_part_per_transaction(
    committed: Committed, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory, book, scored, later = committed
    whole, _, _ = the_whole_pass(committed)
    with factory() as session, session.begin():
        playbooks.install(session, ODD_PATHS, author="test", now=later)
    with factory() as session, session.begin():
        run_decay(session, book, later)  # the sweep with its stage moves, as the worker runs it
        leads = lead_rows(session)
        session.rollback()
    commits: list[Session] = []
    event.listen(factory, "after_commit", commits.append)
    monkeypatch.setattr(worker_module, "DECAY_PART", 2)
    monkeypatch.setattr(worker_module, "utcnow", lambda: later)
    assert Worker(factory).decay() == len(scored)
    # The first transaction reads and ages; then one per part of at most 2 leads to write.
    assert len(commits) - 1 >= -(-whole.changed // 2) > 1
    with factory() as session:
        assert lead_rows(session) == leads


def test_a_lead_erased_between_the_read_and_a_part_is_not_written_back(
    committed: Committed,
) -> None:
    factory, book, _, later = committed
    with factory() as session, session.begin():
        planned = decay_refresh.plan(session, book, later)
    erased = int(planned.aged.ids[planned.rows][-1])
    with factory() as session, session.begin():
        email = session.scalar(select(Lead.email).where(Lead.id == erased))
        privacy.erase(session, email, actor="test", now=later)
    written: list[int] = []
    for part in decay_refresh.parts(planned, 3):
        with factory() as session, session.begin():
            written += decay_refresh.write(session, book, part, later).changed_ids
    assert erased not in written and len(written) == len(planned.rows) - 1
    with factory() as session:
        assert session.get(Lead, erased) is None
        assert not session.scalars(select(RuleState).where(RuleState.lead_id == erased)).all()


def test_a_pass_whose_child_reads_die_reads_rows_and_writes_alike(
    committed: Committed,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A child killed (out of memory, by an operator) costs the worker time, not its pass."""
    monkeypatch.setattr(state_columns, "FEW", 0)  # every lead read as columns, as at scale
    read_by_children = the_whole_pass(committed)
    dying = tmp_path / "dying.py"
    dying.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    monkeypatch.setattr(_arrow, "_CHILD", dying)
    result, leads, states = the_whole_pass(committed)
    assert (leads, states) == read_by_children[1:]
    assert result.changed_ids == read_by_children[0].changed_ids
    if committed.factory.kw["bind"].dialect.name == "sqlite":  # PostgreSQL reads by COPY
        assert "killed by signal 9" in caplog.text
