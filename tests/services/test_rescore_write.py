"""A re-score writes back only the leads whose stored score changed, and stamps every lead."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.bulk import BulkScores, ContributionColumn, score_bands
from leadflow.core.playbook_text import parse_playbook
from leadflow.models import Lead, ScoreEntry
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.repositories import _rebuild
from leadflow.services import leads as lead_service
from leadflow.services.rescore import rescore_all
from leadflow.services.rescore_leads import StoredScores
from leadflow.services.rescore_write import changed, contributions_json
from tests.services.test_rescore import B2B, NOW, ODD_PATHS, explained, populate, stored

COLUMNS = (
    ContributionColumn("senior", 'The "boss"', "fit"),
    ContributionColumn("tier:top", "Top \u00e9", "tier"),
    ContributionColumn("pricing", "Pricing\n", "engagement"),
)


def _scores(points: list[list[float]]) -> BulkScores:
    matrix = np.array(points, np.float64).reshape(len(points), len(COLUMNS))
    total = matrix.sum(axis=1)
    counts = np.zeros(matrix.shape, np.int64)
    counts[:, 2] = np.where(matrix[:, 2] != 0, np.arange(len(points)) + 1, 0)
    return BulkScores(
        fit=total,
        engagement=np.zeros(len(points)),
        total=total,
        grade=np.array(["A1"] * len(points)),
        persona=np.array([None] * len(points), object),
        columns=COLUMNS,
        points=matrix,
        counts=counts,
    )


@pytest.mark.parametrize(
    "points",
    [
        [],
        [[0, 0, 0]],
        [[0, 0, 0], [20, 0, 1.5], [0, 0, 0]],
        [[20, 12.5, 0.1], [0, 0, 0], [20, 0, 0.30000000000000004], [-0.0, 0, 3]],
    ],
    ids=["none", "one_empty", "empty_ends", "mixed"],
)
def test_contributions_are_json_of_each_leads_entries_in_order(points: list[list[float]]) -> None:
    _assert_json_of_entries(_scores(points))


def test_contributions_of_many_leads_each_with_its_own_entries() -> None:
    # Runs of empty leads, leads with one entry (both first and last) and with several.
    rng = np.random.default_rng(5)
    points = rng.choice([0.0, 0.0, 0.0, 1.5, 20.0, -3.25, 0.1], size=(500, len(COLUMNS)))
    points[100:140] = 0.0
    _assert_json_of_entries(_scores(points.tolist()))


def _assert_json_of_entries(scores: BulkScores) -> None:
    assert scores.counts is not None
    want = [
        json.dumps(
            [
                {
                    "rule": c.rule,
                    "label": c.label,
                    "kind": c.kind,
                    "points": p,
                    # an engagement entry counts its events: its why is told from that
                    **({"event_count": n} if c.kind == "engagement" else {}),
                }
                for c, p, n in zip(COLUMNS, row, counted, strict=True)
                if p != 0
            ]
        )  # the keys of live scoring's entries, in its order
        for row, counted in zip(scores.points.tolist(), scores.counts.tolist(), strict=True)
    ]
    assert contributions_json(scores).to_pylist() == want


def _stored(scores: BulkScores) -> StoredScores:
    return StoredScores(
        fit=scores.fit.copy(),
        engagement=scores.engagement.copy(),
        total=scores.total.copy(),
        grade=scores.grade.astype(object),
        persona=scores.persona.copy(),
        contributions=pa.array(contributions_json(scores).to_pylist()),
        score_band=score_bands(scores.total),
    )


def test_only_a_difference_in_a_stored_value_is_a_change() -> None:
    scores = _scores([[20, 0, 1.5]] * 8)
    texts = contributions_json(scores)
    base = _stored(scores)
    assert not changed(base, scores, texts).any()
    base.fit[1] = 19.99
    base.engagement[2] = -0.0  # a different number in JSON, though equal as a float
    base.total[3] = 0.0
    base.grade[4] = None
    base.persona[5] = "founder"
    base = StoredScores(
        base.fit,
        base.engagement,
        base.total,
        base.grade,
        base.persona,
        pa.array([*texts.to_pylist()[:6], "[]", texts.to_pylist()[7]]),
        base.score_band.copy(),
    )
    base.score_band[7] = 0  # its total is 21.5
    assert changed(base, scores, texts).tolist() == [False] + [True] * 7


def _explained_at(session: Session, lead: Lead, text: str, at: datetime) -> tuple[Any, ...]:
    score = lead_service.explain(session, lead, parse_playbook(text), at)
    parts = [(c.rule, c.label, c.kind, c.points) for c in score.contributions]
    persona = score.persona.id if score.persona else None
    return (score.fit, score.engagement, score.total, score.grade, persona, parts)


def _ledger(session: Session) -> list[datetime]:
    return list(session.scalars(select(ScoreEntry.at).order_by(ScoreEntry.id)))


def test_a_second_rescore_writes_nothing_and_stamps_every_lead(session: Session) -> None:
    book = parse_playbook(ODD_PATHS)
    populate(session, seed=7)
    assert rescore_all(session, book, NOW).written > 0
    ledger = _ledger(session)

    again = rescore_all(session, book, NOW)
    assert again.written == 0 and again.changed == 0 and _ledger(session) == ledger
    later = NOW + timedelta(days=3)
    moved = rescore_all(session, book, later)
    session.expire_all()

    assert 0 < moved.written <= moved.leads
    assert _ledger(session) == ledger + [later] * moved.changed
    for lead in session.scalars(select(Lead)):
        assert lead.scored_at == later
        assert stored(lead) == _explained_at(session, lead, ODD_PATHS, later), lead.id


def test_a_full_rescore_read_by_a_child_writes_only_changes(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    book = parse_playbook(B2B.read_text())
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        populate(session, seed=17, leads=50, events=400)
        rescore_all(session, book, NOW)
    with factory() as session, session.begin():
        lead = session.get(Lead, 4)
        assert lead is not None
        lead.contributions = [*lead.contributions, {"rule": "x", "points": 0.0}]
    with factory() as session, session.begin():
        result = rescore_all(session, book, NOW)
        assert result.written == 1 and result.changed == 0
        session.expire_all()
        for each in session.scalars(select(Lead)):
            assert stored(each) == explained(session, each, book), each.id
    engine.dispose()


def _leads_indexes(session: Session) -> list[tuple[str, str]]:
    found = session.connection().exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads'"
        " ORDER BY name"
    )
    return [(name, sql) for name, sql in found]


def test_a_rescore_of_most_leads_restamps_the_rest_and_rebuilds_every_index(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most leads changed: the score indexes are set aside while the changed leads are
    written and the others stamped, and come back whole (SQLite's integrity check compares
    every index entry with its row)."""
    monkeypatch.setattr(_rebuild, "AT_LEAST", 1)  # a bulk write however few the leads
    engine = make_engine(sqlite_url)
    upgrade(engine)
    book = parse_playbook(ODD_PATHS)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        populate(session, seed=7)
        rescore_all(session, book, NOW)
        indexes = _leads_indexes(session)
        edited = list(session.scalars(select(Lead).order_by(Lead.id)))[::2]
        for lead in edited[: len(edited) // 2]:  # a stored score these leads must lose
            lead.contributions = [*lead.contributions, {"rule": "x", "points": 0.0}]
        for lead in edited[len(edited) // 2 :]:
            lead.total += 1
    later = NOW + timedelta(seconds=1)  # too soon for decay to move a hundredth of a point
    with factory() as session, session.begin():
        moved = rescore_all(session, book, later)
        assert _rebuild.SHARE * moved.leads < moved.written < moved.leads  # indexes aside
        assert moved.written == len(edited)
    with factory() as session:
        assert _leads_indexes(session) == indexes
        check = session.connection().exec_driver_sql("PRAGMA integrity_check").scalars().all()
        assert check == ["ok"]
        by_index = session.connection().exec_driver_sql(
            "SELECT count(*) FROM leads INDEXED BY ix_leads_updated_at WHERE updated_at >= ?",
            (later.strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )
        assert by_index.scalar() == moved.leads
        for lead in session.scalars(select(Lead)):
            assert lead.scored_at == later
            assert stored(lead) == _explained_at(session, lead, ODD_PATHS, later), lead.id
    engine.dispose()
