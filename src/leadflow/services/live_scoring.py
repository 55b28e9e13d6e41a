"""Score a few leads now, in the caller's transaction: the per-event path.

Each lead is scored by the pure core from its facts and the events its playbook's rules can
match, its stage moved by the lifecycle rules (the new events count as hand-raisers), its
score logged when it changed, and its account's buying-group score brought up to date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from leadflow.core.facts import EventFacts, lead_facts
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import LeadScore, score_from_state
from leadflow.models.account import Account
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import score_ledger
from leadflow.services import account_rollup, engagement_state, lifecycle
from leadflow.services import model as predictive
from leadflow.services.leads import account_dict, lead_dict


def scored_types(playbook: Playbook) -> set[str] | None:
    """The event types any engagement rule or hand-raiser can match (None: any type)."""
    matchers = [r.event for r in playbook.engagement.rules]
    matchers += [r.event for r in playbook.lifecycle.hand_raisers]
    if any(m.type is None for m in matchers):
        return None
    return {t.lower() for m in matchers for t in (m.type or ())}


def score_leads(
    session: Session,
    playbook: Playbook,
    lead_ids: Iterable[int],
    now: datetime,
    *,
    new_events: Mapping[int, Sequence[EventFacts]] | None = None,
    cause: str,
) -> dict[int, LeadScore]:
    """Re-score these leads from their events, move their stages, update their accounts."""
    wanted = sorted(set(lead_ids))
    if not wanted:
        return {}
    leads = lead_repo.get_many(session, wanted)
    accounts = {
        a.id: a for a in account_repo.get_many(session, {lead.account_id for lead in leads})
    }
    predictor = predictive.active_or_none(session)
    history = {}  # only the model's behaviour counts still read the history (when trained)
    if predictor is not None:
        history = event_repo.for_leads(session, wanted, types=scored_types(playbook))
    states = engagement_state.states_for(session, playbook, wanted, new_events or {}, now)
    scores: dict[int, LeadScore] = {}
    for lead in leads:
        account = accounts.get(lead.account_id) if lead.account_id else None
        if predictor is not None and lead.outcome is None:  # before stages move: they may use it
            predictive.refresh(session, predictor, lead, account, history.get(lead.id, ()))
        scores[lead.id] = _score_one(
            session,
            playbook,
            lead,
            account,
            states.get(lead.id, {}),
            (new_events or {}).get(lead.id, ()),
            now,
            cause,
        )
    session.flush()
    _update_accounts(session, playbook, leads, now)
    return scores


def _score_one(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    account: Account | None,
    states: engagement_state.States,
    new_events: Sequence[EventFacts],
    now: datetime,
    cause: str,
) -> LeadScore:
    tier = playbook.tier_of(account.domain if account else None)
    facts = lead_facts(lead_dict(lead), account_dict(account), tier.id if tier else None)
    score = score_from_state(playbook, facts, states, now)
    before = lead.total
    lead.fit, lead.engagement, lead.total = score.fit, score.engagement, score.total
    lead.grade = score.grade
    lead.persona = score.persona.id if score.persona else None
    lead.contributions = [
        {"rule": c.rule, "label": c.label, "kind": c.kind, "points": c.points}
        for c in score.contributions
    ]
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
    lifecycle.advance(session, lead, playbook, score, facts, new_events, now)
    return score


def _update_accounts(
    session: Session, playbook: Playbook, leads: list[Lead], now: datetime
) -> None:
    account_rollup.update(session, playbook, leads, now)
