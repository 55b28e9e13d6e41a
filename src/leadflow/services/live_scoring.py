"""Scoring a few leads, in the caller's transaction: the live steps the pipeline runs.

Each function here does one thing: read the engagement input of some leads, score one lead,
store one score (with its full explanation), or roll scores up into accounts. The order they
run in, with the stage moves and hand-offs between them, is `services.pipeline`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.engagement_state import LATEST as EXPLAINED_EVENTS
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import Contribution, LeadScore, score_from_state
from leadflow.models.lead import Lead
from leadflow.repositories import score_ledger
from leadflow.services import engagement_state
from leadflow.services.engagement_state import States


def scored_types(playbook: Playbook) -> set[str] | None:
    """The event types any engagement rule or hand-raiser can match (None: any type)."""
    matchers = [r.event for r in playbook.engagement.rules]
    matchers += [r.event for r in playbook.lifecycle.hand_raisers]
    if any(m.type is None for m in matchers):
        return None
    return {t.lower() for m in matchers for t in (m.type or ())}


def engagement_input(
    session: Session,
    playbook: Playbook,
    lead_ids: Sequence[int],
    new_events: Mapping[int, Sequence[EventFacts]],
    now: datetime,
) -> dict[int, States]:
    """What engagement is computed from, per lead: each rule's stored state with the new events
    folded in (`services.engagement_state`), so one event never reads the lead's history."""
    return engagement_state.states_for(session, playbook, lead_ids, new_events, now)


def score(playbook: Playbook, facts: dict[str, Any], states: States, now: datetime) -> LeadScore:
    """One lead's score at `now` from its facts and engagement states; nothing else."""
    return score_from_state(playbook, facts, states, now)


def stored_contribution(c: Contribution) -> dict[str, Any]:
    """A contribution as stored on the lead: the latest events, and how many there were.
    Its why is told when shown, from the playbook (`core.scoring.stored_detail`), as for
    every path's entries."""
    return {
        "rule": c.rule,
        "label": c.label,
        "kind": c.kind,
        "points": c.points,
        "events": list(c.events[-EXPLAINED_EVENTS:]),
        "event_count": c.event_count if c.event_count is not None else len(c.events),
    }


def store(
    session: Session,
    lead: Lead,
    score: LeadScore,
    now: datetime,
    *,
    cause: str,
    new_events: Sequence[EventFacts] = (),
) -> None:
    """Write the score and its explanation on the lead; log it when the total moved."""
    before = lead.total
    lead.fit, lead.engagement, lead.total = score.fit, score.engagement, score.total
    lead.grade = score.grade
    lead.persona = score.persona.id if score.persona else None
    lead.contributions = [stored_contribution(c) for c in score.contributions]
    lead.scored_at = lead.updated_at = now
    if before != score.total or lead.grade is None:
        score_ledger.append(
            session,
            lead_id=lead.id,
            at=now,
            cause=cause,
            fit=score.fit,
            engagement=score.engagement,
            total=score.total,
            grade=score.grade,
            delta_total=round(score.total - (before or 0.0), 2),
            event_id=int(new_events[-1].id) if new_events else None,
        )
