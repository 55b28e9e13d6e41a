"""A bulk stage pass asks `automatic_transition` only where `stage_sweep.sweep` says a lead
may move (`Sweep.moves`): so that must hold wherever the per-lead answer is a move, for any
stored scores, stages, e-mails and probabilities, and any stage criteria on them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.conditions import Condition
from leadflow.core.lifecycle import Transition, automatic_transition, criteria, entered
from leadflow.core.lifecycle import criteria_fields as fields
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import LeadScore, PersonaMatch
from leadflow.core.stage_sweep import sweep
from leadflow.core.stages import Stage

B2B = (Path(__file__).resolve().parents[2] / "examples/b2b_saas.yaml").read_text()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
LIFECYCLES = [
    None,  # the example's: lead on e-mail, MQL on fit and engagement, a demo request
    """lifecycle:
  lead: {any: [{field: email, exists: true}, {field: probability, gte: 0.5}]}
  mql: {all: [{field: total, gte: 40}, {not: {field: grade, in: [D4, C4]}}]}
  sql: {field: fit_letter, equals: A}
  on_decay: fall_back
  sales_ready: [sql]
""",
    """lifecycle:
  lead: {field: probability, exists: true}
  mql: {any: [{field: persona, in: [ops_leader]}, {field: engagement_digit, lte: 2}]}
  sql: {all: [{field: total, range: [50, 80]}, {field: email, regex: "@example"}]}
""",
]


def book(lifecycle: str | None) -> Playbook:
    if lifecycle is None:
        return parse_playbook(B2B)
    return parse_playbook(re.sub(r"(?ms)^lifecycle:.*?(?=^\S)", lifecycle + "\n", B2B))


BOOKS = [book(text) for text in LIFECYCLES]
scores = st.sampled_from([0.0, 0.5, 10.0, 29.99, 30.0, 40.0, 55.5, 80.0, 120.0])
leads = st.fixed_dictionaries(
    {
        "stage": st.sampled_from([s.value for s in Stage]),
        "fit": scores,
        "engagement": scores,
        "total": scores,
        "grade": st.sampled_from([None, "A1", "B2", "C4", "D4", "A4"]),
        "persona": st.sampled_from([None, "", "ops_leader", "engineer"]),
        "email": st.sampled_from([None, "", "a@example.com", "b@other.io"]),
        "probability": st.sampled_from([None, 0.2, 0.5, 0.9, 1]),
        "raised": st.booleans(),
    }
)


def transition(playbook: Playbook, lead: dict[str, Any]) -> Transition | None:
    """What `advance_all` asks of one lead, lead by lead."""
    persona = PersonaMatch(lead["persona"], lead["persona"], 1.0, ()) if lead["persona"] else None
    grade = lead["grade"] or "D4"
    score = LeadScore(lead["fit"], lead["engagement"], lead["total"], grade, persona, ())
    facts = {k: lead[k] for k in ("email", "probability") if lead[k] is not None}
    raised = [_demo()] if lead["raised"] else []
    return automatic_transition(playbook, Stage(lead["stage"]), score, facts, raised, NOW)


def exact_move(playbook: Playbook, lead: dict[str, Any]) -> bool:
    return transition(playbook, lead) is not None


def _demo() -> Any:
    from leadflow.core.facts import EventFacts

    return EventFacts("1", "track", NOW, "Demo Requested")


def columns(rows: list[dict[str, Any]], playbook: Playbook) -> dict[str, Any]:
    grades = [row["grade"] or "D4" for row in rows]
    every = {
        "fit": [r["fit"] for r in rows],
        "engagement": [r["engagement"] for r in rows],
        "total": [r["total"] for r in rows],
        "grade": grades,
        "fit_letter": [g[0] for g in grades],
        "engagement_digit": [int(g[1]) for g in grades],
        "persona": [r["persona"] or None for r in rows],
        "email": [r["email"] for r in rows],
        "probability": [r["probability"] for r in rows],
    }
    return {path: np.array(every[path], dtype=object) for path in fields(playbook)}


def swept(rows: list[dict[str, Any]], playbook: Playbook) -> tuple[Any, ...]:
    """The leads' stages, stage facts and hand-raiser flags, as `sweep` takes them."""
    raised = np.array([r["raised"] for r in rows], bool)
    return [r["stage"] for r in rows], columns(rows, playbook), raised


@pytest.mark.parametrize("which", range(len(BOOKS)))
@settings(max_examples=150, deadline=None)
@given(rows=st.lists(leads, min_size=1, max_size=40))
def test_may_move_holds_wherever_a_lead_moves(which: int, rows: list[dict[str, Any]]) -> None:
    playbook = BOOKS[which]
    flags = sweep(playbook, *swept(rows, playbook)).moves()
    for row, flag in zip(rows, flags.tolist(), strict=True):
        if exact_move(playbook, row):
            assert flag, row


@pytest.mark.parametrize("which", range(len(BOOKS)))
@settings(max_examples=150, deadline=None)
@given(rows=st.lists(leads, min_size=1, max_size=40))
def test_a_lead_not_asked_moves_exactly_as_automatic_transition_moves_it(
    which: int, rows: list[dict[str, Any]]
) -> None:
    """Where `sweep` settles a lead column-wise, its move (target, the criterion's reason)
    is the per-lead one, to the letter; where it neither asks nor moves one, none moves it."""
    playbook = BOOKS[which]
    found = sweep(playbook, *swept(rows, playbook))
    rules = criteria(playbook)
    for k, row in enumerate(rows):
        if found.ask[k]:
            continue
        exact = transition(playbook, row)
        if found.criterion[k] < 0:
            assert exact is None and found.target[k] is None, row
            continue
        target, condition = rules[found.criterion[k]]
        assert found.target[k] == target.value
        assert entered(Stage(row["stage"]), target, condition) == exact, row


def test_the_variants_are_the_playbooks_meant() -> None:
    assert BOOKS[1].lifecycle.on_decay == "fall_back"
    assert BOOKS[2].lifecycle.sql is not None
    assert isinstance(BOOKS[2].lifecycle.lead, Condition)
    assert fields(BOOKS[0]) == {"email", "fit", "engagement"}


def test_may_move_is_tight_where_no_event_or_fall_back_can_move_a_lead() -> None:
    """On the example playbook, without hand-raiser events, it picks exactly the movers."""
    playbook = BOOKS[0]
    rows = [
        {"stage": stage, "fit": fit, "engagement": eng, "total": fit + eng, "grade": "B2",
         "persona": None, "email": email, "probability": None, "raised": False}
        for stage in ("subscriber", "lead", "mql", "nurture", "sql", "customer")
        for fit in (0.0, 40.0) for eng in (0.0, 30.0) for email in (None, "a@b.io")
    ]  # fmt: skip
    flags = sweep(playbook, *swept(rows, playbook)).moves().tolist()
    assert flags == [exact_move(playbook, row) for row in rows]
