"""Lifecycle rules: automatic entry by criteria and hand-raisers; manual moves with reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadflow.core.errors import Conflict, Invalid
from leadflow.core.facts import EventFacts
from leadflow.core.lifecycle import Action, automatic_transition, manual_transition
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import LeadScore
from leadflow.core.stages import Stage

BOOK = parse_playbook((Path(__file__).resolve().parents[2] / "examples/b2b_saas.yaml").read_text())
NOW = datetime(2026, 6, 1, tzinfo=UTC)
FACTS = {"email": "a@b.io"}
DEMO = EventFacts("9", "track", NOW, "Demo Requested")


def score(fit: float, engagement: float) -> LeadScore:
    return LeadScore(fit, engagement, fit + engagement, "B2", None, ())


def test_a_subscriber_with_an_email_becomes_a_lead() -> None:
    move = automatic_transition(BOOK, Stage.SUBSCRIBER, score(0, 0), FACTS, [], NOW)
    assert move is not None and move.to_stage is Stage.LEAD and move.actor == "system"


def test_fit_and_engagement_over_the_bars_make_an_mql_with_the_reason() -> None:
    move = automatic_transition(BOOK, Stage.LEAD, score(40, 30), FACTS, [], NOW)
    assert move is not None and move.to_stage is Stage.MQL
    assert "fit" in move.reason and "engagement" in move.reason
    assert automatic_transition(BOOK, Stage.LEAD, score(40, 29.99), FACTS, [], NOW) is None


def test_a_demo_request_makes_an_sql_at_once() -> None:
    move = automatic_transition(BOOK, Stage.LEAD, score(0, 0), FACTS, [DEMO], NOW)
    assert move is not None and move.to_stage is Stage.SQL
    assert move.reason == "Demo requested: Demo Requested"


def test_no_automatic_move_backwards_or_out_of_sales_stages() -> None:
    assert automatic_transition(BOOK, Stage.SQL, score(0, 0), FACTS, [DEMO], NOW) is None
    assert automatic_transition(BOOK, Stage.OPPORTUNITY, score(99, 99), FACTS, [DEMO], NOW) is None


def test_a_recycled_lead_waits_out_its_nurture_period() -> None:
    later = NOW + timedelta(days=30)
    assert automatic_transition(BOOK, Stage.NURTURE, score(50, 50), FACTS, [], NOW, later) is None
    move = automatic_transition(BOOK, Stage.NURTURE, score(50, 50), FACTS, [], later, later)
    assert move is not None and move.to_stage is Stage.MQL and "re-qualified" in move.reason


@pytest.mark.parametrize(
    ("current", "action", "target"),
    [
        (Stage.MQL, Action.ACCEPT, Stage.SQL),
        (Stage.SQL, Action.RECYCLE, Stage.NURTURE),
        (Stage.LEAD, Action.DISQUALIFY, Stage.DISQUALIFIED),
        (Stage.SQL, Action.CONVERT, Stage.OPPORTUNITY),
        (Stage.OPPORTUNITY, Action.CLOSE_WON, Stage.CUSTOMER),
        (Stage.OPPORTUNITY, Action.CLOSE_LOST, Stage.NURTURE),
    ],
)
def test_manual_moves_carry_actor_and_reason(current: Stage, action: Action, target: Stage) -> None:
    move = manual_transition(current, action, "rep@flowline.io", "budget next year")
    assert (move.from_stage, move.to_stage) == (current, target)
    assert (move.actor, move.reason) == ("rep@flowline.io", "budget next year")


def test_manual_moves_that_do_not_fit_are_refused() -> None:
    with pytest.raises(Conflict, match="must be in"):
        manual_transition(Stage.LEAD, Action.CLOSE_WON, "rep")
    with pytest.raises(Invalid, match="reason"):
        manual_transition(Stage.SQL, Action.DISQUALIFY, "rep", "  ")
    with pytest.raises(Invalid, match="actor"):
        manual_transition(Stage.MQL, Action.ACCEPT, " ")


def test_a_decayed_mql_stays_by_default_and_falls_back_when_the_playbook_says() -> None:
    assert BOOK.lifecycle.on_decay == "stay"
    assert automatic_transition(BOOK, Stage.MQL, score(40, 5), FACTS, [], NOW) is None
    falls = BOOK.model_copy(
        update={"lifecycle": BOOK.lifecycle.model_copy(update={"on_decay": "fall_back"})}
    )
    move = automatic_transition(falls, Stage.MQL, score(40, 5), FACTS, [], NOW)
    assert move is not None and move.to_stage is Stage.LEAD
    assert move.reason.startswith("fell back to lead")
    assert automatic_transition(falls, Stage.MQL, score(40, 30), FACTS, [], NOW) is None
    ready = falls.model_copy(
        update={"lifecycle": falls.lifecycle.model_copy(update={"sales_ready": [Stage.MQL]})}
    )
    assert automatic_transition(ready, Stage.MQL, score(40, 5), FACTS, [], NOW) is None


def test_a_hand_raiser_move_says_so() -> None:
    move = automatic_transition(BOOK, Stage.LEAD, score(0, 0), FACTS, [DEMO], NOW)
    assert move is not None and move.hand_raiser
    criteria = automatic_transition(BOOK, Stage.LEAD, score(40, 30), FACTS, [], NOW)
    assert criteria is not None and not criteria.hand_raiser
