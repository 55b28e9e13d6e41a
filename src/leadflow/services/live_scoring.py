"""Scoring a few leads, in the caller's transaction: the live steps the pipeline runs.

Each function here does one thing: read the engagement input of some leads, score one lead,
store one score (with its full explanation), or roll scores up into accounts. The order they
run in, with the stage moves and hand-offs between them, is `services.pipeline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.accounts import account_only, score_account
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import Contribution, LeadScore, score_from_events
from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories import events as event_repo
from leadflow.repositories import rescoring, score_ledger
from leadflow.services.leads import account_dict, event_facts

# A stored explanation names at most this many events per rule (the latest), with the count.
EXPLAINED_EVENTS = 20


def scored_types(playbook: Playbook) -> set[str] | None:
    """The event types any engagement rule or hand-raiser can match (None: any type)."""
    matchers = [r.event for r in playbook.engagement.rules]
    matchers += [r.event for r in playbook.lifecycle.hand_raisers]
    if any(m.type is None for m in matchers):
        return None
    return {t.lower() for m in matchers for t in (m.type or ())}


def engagement_input(
    session: Session, playbook: Playbook, lead_ids: Sequence[int]
) -> dict[int, list[Event]]:
    """What engagement is computed from, per lead: the events the playbook's rules can match."""
    return event_repo.for_leads(session, lead_ids, types=scored_types(playbook))


def score(
    playbook: Playbook, facts: dict[str, Any], events: Iterable[Event], now: datetime
) -> LeadScore:
    """One lead's score at `now` from its facts and engagement input; nothing else."""
    return score_from_events(playbook, facts, [event_facts(e) for e in events], now)


def stored_contribution(c: Contribution) -> dict[str, Any]:
    """A contribution as stored on the lead: the latest events only, and how many there were."""
    return {
        "rule": c.rule,
        "label": c.label,
        "kind": c.kind,
        "points": c.points,
        "detail": c.detail,
        "events": list(c.events[-EXPLAINED_EVENTS:]),
        "event_count": len(c.events),
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
    lead.scored_at = now
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


def roll_up_accounts(
    session: Session, playbook: Playbook, accounts: list[Account], now: datetime
) -> None:
    """Each account's fit plus its buying group's engagement, from its leads' stored scores."""
    if not accounts:
        return
    engagement = rescoring.lead_engagement(session, [a.id for a in accounts])
    by_account: dict[int, list[float]] = {}
    for account_id, value in zip(engagement["account_id"], engagement["engagement"], strict=True):
        by_account.setdefault(account_id, []).append(float(value))
    scoped = account_only(playbook)
    for account in accounts:
        tier = playbook.tier_of(account.domain)
        facts = {**(account_dict(account) or {}), "tier": tier.id if tier else None}
        result = score_account(playbook, facts, by_account.get(account.id, []), scoped)
        account.fit, account.engagement, account.total = result.fit, result.engagement, result.total
        account.engaged_leads = result.engaged_leads
        account.tier = tier.id if tier else None
        account.updated_at = now
