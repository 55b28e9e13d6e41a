"""Lifecycle rules: automatic entry by criteria and hand-raisers, and the manual moves of sales."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from leadflow.core.conditions import Condition, describe, evaluate, fields_of
from leadflow.core.errors import Conflict, Invalid
from leadflow.core.facts import EventFacts
from leadflow.core.limits import MAX_REASON, text_at_most
from leadflow.core.playbook import HandRaiser, Playbook
from leadflow.core.scoring import LeadScore, event_matches
from leadflow.core.stages import Stage, funnel_rank

# Leads in these stages move only by a person's action.
MANUAL_ONLY = {Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.DISQUALIFIED}
_DEFAULT_LEAD_CRITERION = Condition(field="email", exists=True)
# The actor of a merge's own row on the history (the duplicate's further stage, taken by the
# lead kept): bookkeeping, no entry into a stage, which the reports' entry counts leave out
# (`repositories/stage_changes.entered`). Who merged is on the merge's note and audit entry.
MERGE_ACTOR = "merge"


@dataclass(frozen=True, slots=True)
class Transition:
    """A stage change with its reason and actor."""

    from_stage: Stage
    to_stage: Stage
    reason: str
    actor: str
    hand_raiser: bool = False  # made by a hand-raiser event (its SLA target may be shorter)


def hand_raised(
    playbook: Playbook, events: Sequence[EventFacts]
) -> list[tuple[HandRaiser, EventFacts]]:
    """Each hand-raiser with the first of these events that raises it: the one place the test
    is made (stage moves live and in bulk, and the hand-off's SLA, all read it from here)."""
    found = []
    for raiser in playbook.lifecycle.hand_raisers:
        hit = next((e for e in events if event_matches(raiser.event, e)), None)
        if hit is not None:
            found.append((raiser, hit))
    return found


def criteria(playbook: Playbook) -> list[tuple[Stage, Condition]]:
    """The stage criteria, highest stage first, as `automatic_transition` tries them."""
    lifecycle = playbook.lifecycle
    ordered = [
        (Stage.SQL, lifecycle.sql),
        (Stage.MQL, lifecycle.mql),
        (Stage.LEAD, lifecycle.lead or _DEFAULT_LEAD_CRITERION),
    ]
    return [(stage, condition) for stage, condition in ordered if condition is not None]


# What a lead's stored score offers stage criteria (see LeadScore.as_facts), its e-mail, and
# the predictive model's probability.
SCORE_FIELDS = frozenset(
    {
        "fit",
        "engagement",
        "total",
        "grade",
        "fit_letter",
        "engagement_digit",
        "persona",
        "email",
        "probability",
    }
)


def criteria_fields(playbook: Playbook) -> set[str]:
    """Every fact path the playbook's stage criteria read."""
    return set().union(*(fields_of(condition) for _, condition in criteria(playbook)))


def criteria_need_facts(playbook: Playbook) -> bool:
    """True when a stage criterion reads lead or account attributes beyond the stored score."""
    return not criteria_fields(playbook) <= SCORE_FIELDS


def effective_rank(current: Stage) -> int:
    """The funnel rank criteria must beat to move a lead on from `current`."""
    # A recycled lead re-enters the funnel from the start; it can qualify again.
    return funnel_rank(Stage.LEAD) if current is Stage.NURTURE else funnel_rank(current)


def automatic_transition(
    playbook: Playbook,
    current: Stage,
    score: LeadScore,
    facts: Mapping[str, Any],
    new_events: Sequence[EventFacts],
    now: datetime,
    recycle_until: datetime | None = None,
) -> Transition | None:
    """The forward move the playbook makes on its own after new facts, events or scores."""
    if current in MANUAL_ONLY:
        return None
    if current is Stage.NURTURE and recycle_until is not None and now < recycle_until:
        return None
    rank = effective_rank(current)
    happened = [e for e in new_events if e.occurred_at <= now]  # as scoring, not the future
    for raiser, hit in hand_raised(playbook, happened):
        target = Stage(raiser.stage)
        if funnel_rank(target) > rank:
            reason = f"{raiser.label}: {hit.name or hit.type}"
            return Transition(current, target, reason, "system", hand_raiser=True)
    stage_facts = {**facts, **score.as_facts()}
    for target, condition in criteria(playbook):
        if funnel_rank(target) > rank and evaluate(condition, stage_facts):
            return entered(current, target, condition)
    return _fall_back(playbook, current, stage_facts)


def entered(current: Stage, target: Stage, condition: Condition) -> Transition:
    """The move a stage's criterion makes when it holds for a lead below that stage."""
    verb = "re-qualified" if current is Stage.NURTURE else "entered"
    return Transition(current, target, f"{verb} {target.value}: {describe(condition)}", "system")


def _fall_back(
    playbook: Playbook, current: Stage, stage_facts: Mapping[str, Any]
) -> Transition | None:
    """With `on_decay: fall_back`, an MQL whose score no longer meets its criteria goes back."""
    lifecycle = playbook.lifecycle
    if lifecycle.on_decay != "fall_back" or current is not Stage.MQL or lifecycle.mql is None:
        return None
    if Stage.MQL in lifecycle.sales_ready or evaluate(lifecycle.mql, stage_facts):
        return None
    lead = lifecycle.lead or _DEFAULT_LEAD_CRITERION
    target = Stage.LEAD if evaluate(lead, stage_facts) else Stage.SUBSCRIBER
    reason = f"fell back to {target.value}: no longer {describe(lifecycle.mql)}"
    return Transition(current, target, reason, "system")


class Action(StrEnum):
    """What sales (or marketing) does to a lead by hand."""

    ACCEPT = "accept"
    RECYCLE = "recycle"
    DISQUALIFY = "disqualify"
    CONVERT = "convert"
    CLOSE_WON = "close_won"
    CLOSE_LOST = "close_lost"


_MOVES: dict[Action, tuple[frozenset[Stage], Stage]] = {
    Action.ACCEPT: (frozenset({Stage.LEAD, Stage.MQL, Stage.SQL, Stage.NURTURE}), Stage.SQL),
    Action.RECYCLE: (
        frozenset({Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY}),
        Stage.NURTURE,
    ),
    Action.DISQUALIFY: (
        frozenset(set(Stage) - {Stage.CUSTOMER, Stage.DISQUALIFIED}),
        Stage.DISQUALIFIED,
    ),
    Action.CONVERT: (frozenset({Stage.MQL, Stage.SQL}), Stage.OPPORTUNITY),
    Action.CLOSE_WON: (frozenset({Stage.OPPORTUNITY}), Stage.CUSTOMER),
    Action.CLOSE_LOST: (frozenset({Stage.OPPORTUNITY}), Stage.NURTURE),
}
_NEEDS_REASON = {Action.RECYCLE, Action.DISQUALIFY, Action.CLOSE_LOST}


def manual_transition(current: Stage, action: Action, actor: str, reason: str = "") -> Transition:
    """The move an action makes, or a Conflict naming why it does not fit the lead's stage."""
    allowed, target = _MOVES[action]
    if current not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise Conflict(
            f"cannot {action.value} a lead in stage {current.value}; it must be in: {names}"
        )
    if action in _NEEDS_REASON and not reason.strip():
        raise Invalid(f"{action.value} needs a reason")
    text_at_most("reason", reason.strip(), MAX_REASON)
    if not actor.strip():
        raise Invalid("every stage change needs an actor")
    return Transition(current, target, reason.strip() or action.value, actor)
