"""The hand-off: a lead enters a sales-ready stage -> a rep, a deadline, and an alert with context.

Everything here happens in the transaction of the stage change: the assignment and the alert's
outbox rows commit with it or not at all, and the worker delivers after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import team_events
from leadflow.core.facts import EventFacts
from leadflow.core.lifecycle import Transition
from leadflow.core.playbook import Playbook
from leadflow.core.routing import RepState, route
from leadflow.core.scoring import LeadScore
from leadflow.core.stages import Stage
from leadflow.core.working_hours import WorkingHours
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.models.rep import Rep
from leadflow.models.user import User
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import events as event_repo
from leadflow.repositories import notifications as notification_repo
from leadflow.repositories import reps as rep_repo
from leadflow.services import delivery, notifications
from leadflow.services import reps as rep_service

RECENT_EVENTS = 10
TOP_CONTRIBUTIONS = 5
TIPPING_EVENTS = 5


def is_sales_ready(playbook: Playbook, stage: Stage) -> bool:
    """True when the playbook hands leads in this stage to sales."""
    return stage in playbook.lifecycle.sales_ready


def hand_off(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    move: Transition,
    score: LeadScore,
    facts: Mapping[str, Any],
    new_events: Sequence[EventFacts],
    now: datetime,
    rep_states: list[RepState] | None = None,
    audience: notifications.Audience | None = None,
    recent: Sequence[event_repo.Recent] | None = None,
) -> Assignment | None:
    """Assign a lead that just became sales-ready and queue its alert; None otherwise.

    A bulk caller passes `rep_states` (read once) and it is kept current here, so a thousand
    hand-offs do not read every rep's load a thousand times; and one `audience`, so they do
    not read the webhook endpoints and each team's users a thousand times either; and the
    lead's `recent` events (`event_repo.latest_of`, read for all its leads at once).
    """
    if not is_sales_ready(playbook, move.to_stage):
        return None
    states = rep_states if rep_states is not None else rep_service.states(session, now)
    account = account_repo.get(session, lead.account_id) if lead.account_id else None
    owner = rep_repo.get_by_email(session, account.owner) if account and account.owner else None
    decision = route(
        playbook.routing,
        {**facts, **score.as_facts()},
        states,
        now,
        owner.id if owner else None,
    )
    _count_assignment(states, decision.rep_id, now)
    rep = rep_repo.get(session, decision.rep_id) if decision.rep_id is not None else None
    hand_raiser = move.hand_raiser
    assignment = rep_repo.add_assignment(
        session,
        lead_id=lead.id,
        rep_id=decision.rep_id,
        team=decision.team,
        stage=move.to_stage.value,
        reason=decision.reason,
        hand_raiser=bool(hand_raiser),
        assigned_at=now,
        sla_due_at=deadline(playbook, move.to_stage, bool(hand_raiser), rep, now),
    )
    if rep is not None:
        lead.owner, lead.updated_at = rep.email, now
    notification_repo.signal(session)  # queues on screen change when this commits
    payload = alert_payload(
        session, playbook, lead, move.to_stage, move.reason, score, rep, assignment, now, recent
    )
    payload["why"]["tipped_by"] = [_activity(event) for event in new_events[-TIPPING_EVENTS:]]
    audience = audience or notifications.Audience(session)
    queue_alert(session, "lead.sales_ready", payload, rep, now, team=decision.team,
                audience=audience)  # fmt: skip
    if rep is not None:  # for tools that track ownership; the rep is alerted once, above
        queue_alert(session, "lead.assigned", payload, None, now, audience=audience)
    return assignment


def _count_assignment(states: list[RepState], rep_id: int | None, now: datetime) -> None:
    for k, state in enumerate(states):
        if state.id == rep_id:
            states[k] = replace(
                state, assigned_today=state.assigned_today + 1, last_assigned_at=now
            )


def deadline(
    playbook: Playbook, stage: Stage, hand_raiser: bool, rep: Rep | None, now: datetime
) -> datetime | None:
    """When a lead handed to `rep` (None: a team's queue) at `now` is due: the stage's SLA
    target, counted in the rep's working hours."""
    target = playbook.sla.target_for(stage, hand_raiser)
    if target is None:
        return None
    hours = WorkingHours.parse(rep.working_hours, rep.timezone) if rep else WorkingHours()
    return hours.add(now, target.minutes)


def _activity(event: EventFacts) -> dict[str, Any]:
    """The events that arrived with the change that made the lead sales-ready."""
    return {
        "type": event.type,
        "name": event.name,
        "path": event.properties.get("path"),
        "at": event.occurred_at.isoformat(),
    }


def alert_payload(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    stage: Stage,
    reason: str | None,
    score: LeadScore,
    rep: Rep | None,
    assignment: Assignment,
    now: datetime,
    recent: Sequence[event_repo.Recent] | None = None,
) -> dict[str, Any]:
    """Who, why (`reason`: the move into `stage`), what they looked at, who has it and by
    when: all a rep needs to act. `recent`: the lead's latest events (`RECENT_EVENTS`, oldest
    first), read here if None. `previous_owner` is None: a hand-over (`reassign`) sets it."""
    top = sorted(score.contributions, key=lambda c: c.points, reverse=True)[:TOP_CONTRIBUTIONS]
    if recent is None:
        recent = event_repo.latest_of(session, [lead.id], RECENT_EVENTS).get(lead.id, [])
    return {
        "lead": lead_card(session, playbook, lead, stage),
        "why": {
            "reason": reason,
            "score": {
                "fit": score.fit,
                "engagement": score.engagement,
                "total": score.total,
                "grade": score.grade,
            },
            "top_contributions": [
                {"rule": c.rule, "label": c.label, "points": c.points} for c in top
            ],
        },
        "recent_activity": [
            {
                "type": e.type,
                "name": e.name,
                "path": (e.properties or {}).get("path"),
                "at": e.occurred_at.isoformat(),
            }
            for e in reversed(recent)
        ],
        "notes": [
            e.properties.get("text")
            for e in reversed(recent)
            if team_events.is_note(e.name, e.source)
        ],
        "assignee": (
            {"id": rep.id, "name": rep.name, "email": rep.email, "team": rep.team} if rep else None
        ),
        "team": assignment.team,
        "assignment_reason": assignment.reason,
        "assignment_id": assignment.id,
        "previous_owner": None,
        "sla_due_at": assignment.sla_due_at.isoformat() if assignment.sla_due_at else None,
        "occurred_at": now.isoformat(),
    }


def lead_card(session: Session, playbook: Playbook, lead: Lead, stage: Stage) -> dict[str, Any]:
    """Who an alert is about: the person, their company and tier, their persona."""
    account = account_repo.get(session, lead.account_id) if lead.account_id else None
    tier = playbook.tier_of(account.domain if account else None)
    persona = next((p for p in playbook.personas if p.id == lead.persona), None)
    return {
        "id": lead.id,
        "email": lead.email,
        "name": " ".join(p for p in (lead.first_name, lead.last_name) if p) or None,
        "title": lead.title,
        "company": account.name if account else None,
        "domain": account.domain if account else None,
        "tier": tier.id if tier else None,
        "persona": (
            {
                "id": persona.id,
                "name": persona.name,
                "talking_points": list(persona.psychographics.talking_points),
            }
            if persona
            else None
        ),
        "stage": stage.value,
    }


def queue_alert(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    rep: Rep | None,
    now: datetime,
    team: str | None = None,
    audience: notifications.Audience | None = None,
) -> str:
    """Queue one alert for every endpoint that wants it and the rep's channels, and deliver it
    in the app to the rep (or, with no rep, to the `team` whose queue holds the lead); its id.
    `audience`: who alerts go to, as a run of alerts read it once."""
    audience = audience or notifications.Audience(session)
    people = audience.recipients(rep, team)
    return queue_to(session, event_type, data, _channels(rep), now, people, audience=audience)


def queue_to(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    urls: list[str],
    now: datetime,
    people: Sequence[User] = (),
    audience: notifications.Audience | None = None,
) -> str:
    """Queue one alert for every endpoint that wants it and these Apprise URLs, and deliver it
    in the app to these people; its id."""
    alert_id = f"alert_{uuid.uuid4().hex}"
    payload = {"id": alert_id, "type": event_type, "timestamp": now.isoformat(), "data": data}
    rows = [
        _row(alert_id, event_type, "webhook", str(endpoint.id), payload, now)
        for endpoint in (audience or notifications.Audience(session)).endpoints()
        if event_type in endpoint.events
    ]
    rows += [_row(alert_id, event_type, "apprise", url, payload, now) for url in urls]
    rows += notifications.outbox_rows(alert_id, event_type, payload, people, now)
    delivery.queue(session, rows, now)
    notifications.deliver(session, payload, [person.id for person in people], now)
    return alert_id


def _channels(rep: Rep | None) -> list[str]:
    return list(rep.channels or []) if rep is not None else []


def _row(
    alert_id: str, event_type: str, kind: str, target: str, payload: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "event_type": event_type,
        "target_kind": kind,
        "target": target,
        "payload": payload,
        "created_at": now,
        "next_attempt_at": now,
    }
