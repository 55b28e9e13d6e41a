"""Each lead's score band is stored beside its total (`leads.score_band`, the funnel reports'
covering index holds it), and every writer keeps it the total's: live scoring, the decay
pass, a re-score. The decay pass and a re-score set grade and band only for the leads whose
grade or band moved, so the wide index holding them is left alone for the others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.core.scoring import score_band
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models import Lead
from leadflow.repositories import leads as lead_repo
from leadflow.services import decay_refresh, rescore
from leadflow.services.reports import funnel
from tests.services.test_decay_parts import committed
from tests.services.test_live_state import Committed, lead_rows

__all__ = ["committed"]


@pytest.mark.parametrize(
    ("total", "band"),
    [(0.0, 0), (19.99, 0), (20.0, 20), (39.5, 20), (-0.01, -20), (-20.0, -20), (-20.5, -40)],
)
def test_a_band_is_the_lower_edge_of_its_twenty_points(total: float, band: int) -> None:
    assert score_band(total) == band


@pytest.fixture
def updates(committed: Committed) -> Iterator[list[str]]:
    """The UPDATE statements of `leads` run meanwhile (the committed database's)."""
    seen: list[str] = []

    def keep(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("UPDATE LEADS"):
            seen.append(statement)

    engine = committed.factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", keep)
    yield seen
    event.remove(engine, "before_cursor_execute", keep)


def _grades_and_bands(session: Session) -> dict[int, tuple[str | None, int]]:
    return {i: (g, b) for i, g, b in session.execute(select(Lead.id, Lead.grade, Lead.score_band))}


def test_the_decay_pass_sets_grade_and_band_only_where_one_moved(
    committed: Committed, updates: list[str]
) -> None:
    with committed.factory() as session, session.begin():
        before = _grades_and_bands(session)
        planned = decay_refresh.plan(session, committed.book, committed.later)
        written = planned.aged.ids[planned.rows].tolist()
        moved = {i for i, m in zip(written, planned.ranked.tolist(), strict=True) if m}
        assert moved and set(written) - moved, "the scenario ages leads of both kinds"
        decay_refresh.write(session, committed.book, planned, committed.later)
        after = _grades_and_bands(session)
        lead_rows(session)  # every stored band is its total's
        session.rollback()
    assert {i for i in written if after[i] != before[i]} == moved
    setting = [s.split(" WHERE ")[0] for s in updates]
    assert any("score_band" in s and "grade" in s for s in setting)
    assert any("total" in s and "score_band" not in s and "grade" not in s for s in setting)


def test_a_rescore_sets_grade_and_band_only_where_one_moved(
    committed: Committed, updates: list[str]
) -> None:
    book, later = committed.book, committed.later
    with committed.factory() as session, session.begin():
        rescore.rescore_all(session, book, later)
        lead_rows(session)
        before = _grades_and_bands(session)
        updates.clear()
        written = rescore.rescore_all(session, book, later + timedelta(days=2)).written
        after = _grades_and_bands(session)
        lead_rows(session)
        session.rollback()
    moved = {i for i in before if after[i] != before[i]}
    assert moved and written > len(moved), "the scenario re-scores leads of both kinds"
    setting = [s.split(" WHERE ")[0] for s in updates]
    assert any("score_band" in s and "grade" in s for s in setting)
    assert any("total" in s and "score_band" not in s and "grade" not in s for s in setting)


def test_the_funnel_by_score_band_counts_the_stored_bands(committed: Committed) -> None:
    with committed.factory() as session, session.begin():
        decay_refresh.refresh(session, committed.book, committed.later)
        leads = session.execute(select(Lead.total, Lead.stage, Lead.reached_rank)).all()
        report = funnel.conversion(session, Cohort(), by="score_band")
        session.rollback()
    counted = {row["score_band"]: row["lead"] for row in report["rows"]}
    expected: dict[int, int] = {}
    for total, stage, reached in leads:  # those the funnel counts as leads
        if max(funnel_rank(Stage(stage)), reached) >= funnel_rank(Stage.LEAD):
            expected[score_band(total)] = expected.get(score_band(total), 0) + 1
    assert counted == expected


def test_a_total_set_or_inserted_brings_its_band(session: Session) -> None:
    """Through the ORM (a total set, or given to a new lead) and a Core insert alike."""
    given = Lead(email="given@x.io", total=45.5)
    session.add(given)
    session.flush()
    given.total = -3.0
    session.execute(insert(Lead), [{"email": "core@x.io", "total": 119.99}, {"email": "no@x.io"}])
    at = datetime(2026, 11, 30, tzinfo=UTC)
    bulk = [{"email": f"bulk{k}@x.io", "total": t, "created_at": at, "updated_at": at}
            for k, t in enumerate((61.0, -0.5))]  # fmt: skip
    lead_repo.upsert_many(session, bulk)  # the driver-level insert of imports
    session.flush()
    session.expire_all()
    found = dict(session.execute(select(Lead.email, Lead.score_band)).tuples().all())
    assert found == {"given@x.io": -20, "core@x.io": 100, "no@x.io": 0, "bulk0@x.io": 60,
                     "bulk1@x.io": -20}  # fmt: skip
