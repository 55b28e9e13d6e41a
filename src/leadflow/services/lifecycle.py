"""Stage changes: apply the playbook's automatic moves and sales' manual ones, with reasons."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core import amounts, stage_sweep
from leadflow.core.errors import Invalid
from leadflow.core.facts import EventFacts, facts_of
from leadflow.core.lifecycle import (
    Action,
    Transition,
    automatic_transition,
    criteria,
    criteria_fields,
    criteria_need_facts,
    entered,
    hand_raised,
    manual_transition,
)
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import Contribution, LeadScore, PersonaMatch
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import bulk_jobs, events, stage_changes, stage_facts
from leadflow.repositories import leads as lead_repo
from leadflow.services import audit, digest, handoff, sla
from leadflow.services import leads as lead_service

AUTOMATIC_FROM = (Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL, Stage.NURTURE)


def record(
    session: Session, lead: Lead, transition: Transition, now: datetime, *,
    entered_at: datetime | None = None,
) -> None:  # fmt: skip
    """Move the lead and write the change, its reason and its actor to the history. An
    action that keeps the stage (a rep accepting an SQL) is on the history but left and
    entered nothing: the lead's time in its stage still runs from when it entered it, and
    the row is no move out of a stage (no `previous_entered_at`: velocity skips it).

    `entered_at`: the lead entered the stage it takes then, on a history brought to it (a
    merge takes the duplicate's stage with the duplicate's move into it): the row is again no
    move out of a stage, and the lead's time in the new one runs from then."""
    since = lead.stage_changed_at or lead.created_at
    moved = transition.from_stage != transition.to_stage
    lead.stage = transition.to_stage.value
    if moved:
        lead.stage_changed_at = entered_at or now
    ranks = (funnel_rank(transition.from_stage), funnel_rank(transition.to_stage))
    lead.reached_rank = max(lead.reached_rank if lead.reached_rank is not None else -1, *ranks)
    stage_changes.record(
        session,
        lead_id=lead.id,
        from_stage=transition.from_stage.value,
        to_stage=transition.to_stage.value,
        at=now,
        reason=transition.reason,
        actor=transition.actor,
        previous_entered_at=since if moved and entered_at is None else None,
    )


def advance(
    session: Session,
    lead: Lead,
    playbook: Playbook,
    score: LeadScore,
    facts: dict[str, object],
    new_events: Sequence[EventFacts],
    now: datetime,
) -> Transition | None:
    """Apply the playbook's automatic move for one lead, if any."""
    move = automatic_transition(
        playbook, Stage(lead.stage), score, facts, new_events, now, lead.recycle_until
    )
    if move is not None:
        record(session, lead, move, now)
        handoff.hand_off(session, playbook, lead, move, score, facts, new_events, now)
    return move


DEFAULT_RECYCLE_DAYS = 90


def act(
    session: Session,
    lead: Lead,
    action: Action,
    *,
    actor: str,
    reason: str,
    now: datetime,
    recycle_days: int | None = None,
    reengage_on: datetime | None = None,
    amount: float | None = None,
    expected_close: str | None = None,
    owner: str | None = None,
) -> Transition:
    """A person's stage action on a lead (accept, recycle, disqualify, convert, close); an
    accepted lead with no owner gets `owner` (default: the actor)."""
    if amount is not None:
        amount = amounts.checked(amount, "amount")
    if reengage_on is not None and reengage_on.date() < now.date():
        raise Invalid(f"reengage_on: {reengage_on.date()} is in the past (today is "
                      f"{now.date()}, UTC); give today or a later day")  # fmt: skip
    move = manual_transition(Stage(lead.stage), action, actor, reason)
    record(session, lead, move, now)
    sla.touch(session, lead.id, now)  # any action by a person is the first touch
    if action in (Action.RECYCLE, Action.CLOSE_LOST):
        default = now + timedelta(days=recycle_days or DEFAULT_RECYCLE_DAYS)
        lead.recycle_until = reengage_on or default
    if action is Action.CONVERT:
        opportunity = {"opportunity_amount": amount, "expected_close": expected_close}
        lead.attributes = {**(lead.attributes or {}), **opportunity}
    if action is Action.ACCEPT and lead.owner is None:
        lead.owner = owner or actor
        sla.claimed(session, lead.id, lead.owner)
    if action in (Action.CLOSE_WON, Action.CLOSE_LOST):
        lead.outcome = "won" if action is Action.CLOSE_WON else "lost"
        lead.outcome_reason = move.reason
        lead.outcome_amount = amount
        lead.closed_at = now
    if action is Action.CLOSE_WON:
        digest.announce_win(session, lead, now)  # in this transaction: no win, no announcement
    lead.updated_at = now
    details = {"from": move.from_stage.value, "to": move.to_stage.value, "amount": amount}
    # The reason stays in the stage history: free text may name the person, the log may not.
    audit.record(
        session, actor=actor, action=f"lead.{action.value}", target=f"lead:{lead.id}",
        details=details, now=now,
    )  # fmt: skip
    return move


def advance_all(
    session: Session,
    playbook: Playbook,
    now: datetime,
    *,
    actor: str,
    lead_ids: Iterable[int] | None = None,
    arrived_since: datetime | None = None,
) -> Counter[tuple[str, str]]:
    """After a re-score, move every lead (or those listed) the playbook now qualifies.

    `arrived_since`: events received from then on are news, whenever they happened (an
    import's), as a tracking call's are to `advance`."""
    moves: Counter[tuple[str, str]] = Counter()
    rows: list[tuple[int, Transition]] = []
    ready: list[tuple[int, Transition, LeadScore]] = []
    raised = hand_raiser_events(session, playbook, now, arrived_since)
    stages = [s.value for s in AUTOMATIC_FROM]
    with_facts = criteria_need_facts(playbook)
    if with_facts:
        candidates = stage_facts.stage_candidates(
            session, stages=stages, lead_ids=lead_ids, with_facts=True
        )
    else:  # criteria on the stored score: moved column-wise, or asked one by one
        columns = stage_facts.score_columns(session, stages=stages, lead_ids=lead_ids)
        asked, settled = _swept(playbook, columns, raised)
        candidates = stage_facts.score_facts_of(columns, asked)
        for lead_id, settled_move in settled:
            moves[(settled_move.from_stage.value, settled_move.to_stage.value)] += 1
            rows.append((lead_id, settled_move))
    for row in candidates:
        persona = PersonaMatch(row.persona, row.persona, 1.0, ()) if row.persona else None
        score = LeadScore(row.fit, row.engagement, row.total, row.grade or "D4", persona, ())
        facts = facts_of(playbook, row.lead_facts, row.account_facts or None)
        move = automatic_transition(
            playbook, Stage(row.stage), score, facts, raised.get(row.id, ()), now, row.recycle_until
        )
        if move is None:
            continue
        moves[(move.from_stage.value, move.to_stage.value)] += 1
        rows.append((row.id, move))
        if handoff.is_sales_ready(playbook, move.to_stage):
            ready.append((row.id, move, score))
    rows.sort(key=lambda row: row[0])  # in lead id order, however each move was found
    since = lead_repo.entered_at(session, [lead_id for lead_id, _ in rows])
    stage_changes.record_many(
        session,
        [
            {
                "lead_id": lead_id,
                "from_stage": m.from_stage.value,
                "to_stage": m.to_stage.value,
                "at": now,
                "reason": m.reason,
                "actor": actor if m.actor == "system" else m.actor,
                "previous_entered_at": since.get(lead_id),
            }
            for lead_id, m in rows
        ],
    )
    lead_repo.set_stages(
        session, [(lead_id, m.from_stage.value, m.to_stage.value) for lead_id, m in rows], at=now
    )
    _hand_off_all(session, playbook, ready, raised, now)
    return moves


def _swept(
    playbook: Playbook, columns: dict[str, list[Any]], raised: dict[int, list[EventFacts]]
) -> tuple[list[int], list[tuple[int, Transition]]]:
    """The rows of `score_columns` to ask `automatic_transition` one by one, and the leads
    their criteria alone move (`core.stage_sweep`), with their moves. Their stage facts are
    those `advance_all` gives it: the stored score (grade D4 when none), e-mail and
    probability. A lead made sales-ready is asked too: its hand-off needs its score."""
    grades = [grade or "D4" for grade in columns["grade"]]
    facts = {
        # The scores are REAL columns, never NULL: floats, encoded as numbers (fast); the rest
        # as the values they are (objects: 1 and 1.0 stay apart, as conditions tell them).
        path: np.array(_stage_fact(path, columns, grades), dtype=np.float64 if path in
                       ("fit", "engagement", "total") else object)
        for path in criteria_fields(playbook)
    }  # fmt: skip
    ids, stages = columns["id"], columns["stage"]
    found = stage_sweep.sweep(
        playbook, stages, facts, np.fromiter((i in raised for i in ids), bool, len(ids))
    )
    rules = criteria(playbook)
    by_rule = found.criterion >= 0
    ready = by_rule.copy()  # moved by a criterion to a sales-ready stage
    ready[by_rule] = np.array([handoff.is_sales_ready(playbook, stage) for stage, _ in rules])[
        found.criterion[by_rule]
    ]
    ask = found.ask | ready
    made: dict[tuple[str, int], Transition] = {}  # one move per stage and criterion
    settled = []
    for k in np.flatnonzero(by_rule & ~ask).tolist():
        key = (stages[k], int(found.criterion[k]))
        if key not in made:
            target, condition = rules[key[1]]
            made[key] = entered(Stage(key[0]), target, condition)
        settled.append((ids[k], made[key]))
    return np.flatnonzero(ask).tolist(), settled


def _stage_fact(path: str, columns: dict[str, list[Any]], grades: list[str]) -> list[Any]:
    """One stage fact of every row (`LeadScore.as_facts`, and the e-mail and probability)."""
    if path == "grade":
        return grades
    if path == "fit_letter":
        return [g[0] for g in grades]
    if path == "engagement_digit":
        return [int(g[1]) for g in grades]
    if path == "persona":
        return [persona or None for persona in columns["persona"]]
    return columns[path]  # fit, engagement, total, email, probability


def _hand_off_all(
    session: Session,
    playbook: Playbook,
    ready: list[tuple[int, Transition, LeadScore]],
    raised: dict[int, list[EventFacts]],
    now: datetime,
) -> None:
    """Hand off the leads a bulk pass made sales-ready: their whole facts (routing may read
    any), their stored explanations."""
    if not ready:
        return
    # Routing, the SLA and the alerts read a few rows at a time: through the indexes a bulk
    # job has set aside, rebuilt now.
    bulk_jobs.indexes_back(session)
    leads = {lead.id: lead for lead in lead_repo.get_many(session, [r[0] for r in ready])}
    accounts = {
        a.id: a
        for a in account_repo.get_many(session, {lead.account_id for lead in leads.values()})
    }
    recent = events.latest_of(session, leads, handoff.RECENT_EVENTS)
    handed = []
    for lead_id, move, score in ready:
        lead = leads[lead_id]
        account = accounts.get(lead.account_id) if lead.account_id else None
        explained = tuple(
            Contribution(c["rule"], c.get("label") or c["rule"], c.get("kind", "fit"), c["points"])
            for c in lead.contributions or []
        )
        handed.append(handoff.Ready(
            lead, move, dataclasses.replace(score, contributions=explained),
            lead_service.facts_of(session, lead, playbook, account), raised.get(lead_id, ()),
            recent.get(lead_id, []),
        ))  # fmt: skip
    handoff.hand_off_many(session, playbook, handed, now)


def hand_raiser_events(
    session: Session, playbook: Playbook, now: datetime, arrived_since: datetime | None = None
) -> dict[int, list[EventFacts]]:
    """Per lead, the hand-raiser events it sent since its last stage change, up to `now` (a
    re-score as of an earlier moment does not see a later demo request, as it scores none),
    and those received from `arrived_since` on (an import's), whenever they were sent.

    A re-score or an import sees events after the fact; a demo request stored that way must
    still make the lead SQL, but one sent before the lead was recycled must not re-qualify it
    on a re-score. An import's events are news, as a tracking call's are, however old: a
    lead imported before its history makes SQL on the history's demo request.
    """
    found: dict[int, list[EventFacts]] = {}
    stages = [s.value for s in AUTOMATIC_FROM]
    for raiser in playbook.lifecycle.hand_raisers:
        match = raiser.event
        rows = events.since_stage_change(
            session, stages=stages, types=match.type, names=match.name, until=now,
            received_since=arrived_since,
        )  # fmt: skip
        for row in rows:
            fact = events.as_facts(row)
            if any(r is raiser for r, _ in hand_raised(playbook, [fact])):
                found.setdefault(row.lead_id, []).append(fact)
    return found
