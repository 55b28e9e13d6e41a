"""Leads: list them by score, and show one with its score explained and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import facts as core_facts
from leadflow.core.conditions import describe, evaluate
from leadflow.core.errors import Conflict, LeadflowError, NotFound
from leadflow.core.facts import ACCOUNT_COLUMNS, LEAD_COLUMNS, EventFacts
from leadflow.core.limits import as_id
from leadflow.core.playbook import Persona, Playbook
from leadflow.core.scoring import LeadScore, score_from_events, stored_detail
from leadflow.core.stages import Stage
from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import events as event_repo
from leadflow.repositories import external_ids as external_id_repo
from leadflow.repositories import lead_lists, stage_changes
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import reps as rep_repo
from leadflow.repositories.lead_lists import LeadFilter as LeadFilter  # listing filters

# The columns people and imports fill (data quality reads these); facts add `probability`.
LEAD_FIELDS = ("email", "first_name", "last_name", "title", "phone", "country")
ACCOUNT_FIELDS = ACCOUNT_COLUMNS


def lead_dict(lead: Lead) -> dict[str, Any]:
    """A lead's facts input (`core.facts.LEAD_COLUMNS` and `attributes`)."""
    facts: dict[str, Any] = {name: getattr(lead, name) for name in LEAD_COLUMNS}
    facts["attributes"] = dict(lead.attributes or {})
    return facts


def account_dict(account: Account | None) -> dict[str, Any] | None:
    """An account's facts input (`core.facts.ACCOUNT_COLUMNS` and `attributes`)."""
    if account is None:
        return None
    facts: dict[str, Any] = {name: getattr(account, name) for name in ACCOUNT_COLUMNS}
    facts["attributes"] = dict(account.attributes or {})
    facts["score"] = account.total  # as last rolled up (core.facts.ACCOUNT_SCORE)
    return facts


def event_facts(event: Event) -> EventFacts:
    """A stored event as scoring sees it."""
    return EventFacts(
        id=str(event.id),
        type=event.type,
        occurred_at=event.occurred_at,
        name=event.name,
        properties=event.properties or {},
        context=event.context or {},
    )


def find(session: Session, key: str) -> Lead:
    """A lead by id or e-mail, or NotFound naming the key."""
    number = as_id(key)
    lead = (
        lead_repo.get(session, number)
        if number is not None
        else lead_repo.get_by_email(session, key)
    )
    if lead is None:
        raise NotFound(f"no lead with {'id' if number is not None else 'e-mail'} {key!r}")
    return lead


def held(session: Session, key: str) -> Lead:
    """A lead to edit, by id or e-mail: read afresh and held until the commit (`ROW_LOCK`).

    Read without a lock, a lead a merge or an erasure deletes meanwhile failed the edit at its
    first write (its UPDATE found no row, its stage change or note no lead: a 500). Held, the
    merge or erasure either commits first, and the lead is found gone here (Conflict naming
    the lead it went into, NotFound when erased), or waits for the edit's commit."""
    lead = find(session, key)
    if (found := lead_repo.get(session, lead.id, lock=True)) is not None:
        return found
    raise _gone(session, lead)


def _gone(session: Session, lead: Lead) -> LeadflowError:
    """What became of a lead deleted since it was read: a merge folds its address into the
    lead kept (`lead_repo.fold_email`), an erasure leaves the address to no lead."""
    kept = lead_repo.get_by_email(session, lead.email) if lead.email else None
    if kept is not None and kept.id != lead.id:
        return Conflict(
            f"lead {lead.id} was merged into lead {kept.id} ({kept.email}) while you edited "
            "it; edit that one"
        )
    if lead.email is not None:
        return NotFound(f"lead {lead.id} was erased while you edited it")
    return NotFound(f"lead {lead.id} was merged or erased while you edited it")


def facts_of(
    session: Session, lead: Lead, playbook: Playbook, account: Account | None = None
) -> dict[str, Any]:
    """The lead and its account as conditions see them (`core.facts.facts_of`)."""
    if account is None and lead.account_id:
        account = account_repo.get(session, lead.account_id)
    return core_facts.facts_of(playbook, lead_dict(lead), account_dict(account))


def explain(session: Session, lead: Lead, playbook: Playbook, now: datetime) -> LeadScore:
    """The lead's score recomputed from its events at `now` (not stored: a what-if)."""
    facts = facts_of(session, lead, playbook)
    events = [event_facts(e) for e in event_repo.for_lead(session, lead.id)]
    return score_from_events(playbook, facts, events, now)


def explanation(lead: Lead, playbook: Playbook) -> list[dict[str, Any]]:
    """The stored score's contributions: they sum to the stored total, as of `scored_at`;
    each one's why told from the playbook (`core.scoring.stored_detail`)."""
    return [
        {
            "rule": c["rule"],
            "label": c.get("label") or c["rule"],
            "kind": c.get("kind", "fit"),
            "points": c["points"],
            "detail": stored_detail(playbook, c),
            "events": list(c.get("events", [])),
            "event_count": c.get("event_count", len(c.get("events", []))),
        }
        for c in lead.contributions or []
    ]


def summary(lead: Lead) -> dict[str, Any]:
    """The fields every lead listing carries."""
    return {
        "id": lead.id,
        "email": lead.email,
        "name": " ".join(p for p in (lead.first_name, lead.last_name) if p) or None,
        "title": lead.title,
        "stage": lead.stage,
        "fit": lead.fit,
        "engagement": lead.engagement,
        "total": lead.total,
        "grade": lead.grade,
        "persona": lead.persona,
        "owner": lead.owner,
        "source": lead.source,
        "campaign": lead.campaign,
        "contributions": [
            {"rule": c["rule"], "points": c["points"], "label": c.get("label")}
            for c in (lead.contributions or [])
        ],
    }


def list_top(
    session: Session,
    *,
    stage: str | None = None,
    grade: str | None = None,
    persona: str | None = None,
    stages: tuple[str, ...] | None = None,
    limit: int = 25,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Leads by score, highest first, with optional filters (`stages`: any of these)."""
    rows = lead_lists.list_top(
        session, stage=stage, grade=grade, persona=persona, stages=stages, limit=limit,
        offset=offset,
    )  # fmt: skip
    return [summary(lead) for lead in rows]


def page(
    session: Session, wanted: LeadFilter, *, sort: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of leads in the given order, and how many match in all."""
    rows = lead_lists.list_leads(session, wanted, sort=sort, limit=limit, offset=offset)
    return [summary(lead) for lead in rows], lead_lists.count_leads(session, wanted)


def detail(session: Session, key: str, playbook: Playbook, now: datetime) -> dict[str, Any]:
    """One lead: score explained rule by rule, persona, account, stage history, timeline."""
    lead = find(session, key)
    account = account_repo.get(session, lead.account_id) if lead.account_id else None
    persona = next((p for p in playbook.personas if p.id == lead.persona), None)
    tier = playbook.tier_of(account.domain if account else None)
    data = summary(lead)
    data["other_emails"] = lead_repo.other_emails(session, lead.id)  # of records merged in
    data["contributions"] = explanation(lead, playbook)
    data["persona_detail"] = (
        {
            "id": persona.id,
            "name": persona.name,
            "talking_points": persona.psychographics.talking_points,
            "met": _met(persona, facts_of(session, lead, playbook, account)),
        }
        if persona
        else None
    )
    data["account"] = (
        {**(account_dict(account) or {}), "tier": tier.id if tier else None} if account else None
    )
    data["account_match"] = (
        {"confidence": lead.account_confidence, "reason": lead.account_reason}
        if lead.account_reason
        else None
    )
    history = stage_changes.for_lead(session, lead.id)
    data["stage_history"] = [
        {
            "from": change.from_stage,
            "to": change.to_stage,
            "at": change.at.isoformat(),
            "reason": change.reason,
            "actor": change.actor,
        }
        for change in history
    ]
    # Recycles are counted: a lead sent back to nurture three times tells both teams something.
    data["recycles"] = sum(1 for change in history if change.to_stage == Stage.NURTURE.value)
    data["scored_at"] = lead.scored_at.isoformat() if lead.scored_at else None
    data["attributes"] = dict(lead.attributes or {})
    data["external_ids"] = external_id_repo.of_lead(session, lead.id)
    data["updated_at"] = lead.updated_at.isoformat()
    data["do_not_track"] = lead.do_not_track
    # A recycled or lost lead may qualify again from this moment (None: whenever it does).
    data["recycle_until"] = lead.recycle_until.isoformat() if lead.recycle_until else None
    data["probability"] = lead.probability
    data["probability_reasons"] = list(lead.probability_reasons or [])
    # base + the contributions = the probability's log-odds (services/prediction.py)
    data["probability_contributions"] = lead.probability_contributions
    data["outcome"] = (
        {
            "result": lead.outcome,
            "reason": lead.outcome_reason,
            "amount": lead.outcome_amount,
            "closed_at": lead.closed_at.isoformat() if lead.closed_at else None,
        }
        if lead.outcome
        else None
    )
    data["assignment"] = _assignment(session, lead.id)
    return data


def _met(persona: Persona, facts: dict[str, Any]) -> list[str]:
    return [describe(c) for c in persona.criteria if evaluate(c, facts)]


def _assignment(session: Session, lead_id: int) -> dict[str, Any] | None:
    """The lead's latest hand-off: who, why, the deadline and whether it was kept."""
    found = rep_repo.latest_assignment(session, lead_id)
    if found is None:
        return None
    assignment, rep = found

    def stamp(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "rep": {"name": rep.name, "email": rep.email} if rep else None,
        "team": assignment.team,
        "reason": assignment.reason,
        "assigned_at": stamp(assignment.assigned_at),
        "sla_due_at": stamp(assignment.sla_due_at),
        "first_touch_at": stamp(assignment.first_touch_at),
        "sla_status": assignment.status,
        "escalation_level": assignment.escalation_level,
    }


def timeline(session: Session, lead_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The lead's events, newest first."""
    events = event_repo.for_lead(session, lead_id)
    return [
        {
            "id": e.id,
            "type": e.type,
            "name": e.name,
            "source": e.source,  # a team's note or touch is told apart by it (core.team_events)
            "at": e.occurred_at.isoformat(),
            "properties": e.properties,
        }
        for e in reversed(events[-limit:])
    ]
