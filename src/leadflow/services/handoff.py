"""The hand-off: a lead enters a sales-ready stage -> a rep, a deadline, and an alert with context.

Everything here happens in the transaction of the stage change: the assignment and the alert's
outbox rows commit with it or not at all, and the worker delivers after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Ready:
    """A lead a stage move has just made sales-ready, with what its hand-off reads: its
    score (with the explanation the alert shows), facts (routing may read any), the events
    that arrived with the move, and its `recent` events (None: read here)."""

    lead: Lead
    move: Transition
    score: LeadScore
    facts: Mapping[str, Any]
    new_events: Sequence[EventFacts] = ()
    recent: Sequence[event_repo.Recent] | None = None


def hand_off(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    move: Transition,
    score: LeadScore,
    facts: Mapping[str, Any],
    new_events: Sequence[EventFacts],
    now: datetime,
) -> Assignment | None:
    """Assign a lead that just became sales-ready and queue its alert; None otherwise."""
    made = hand_off_many(session, playbook, [Ready(lead, move, score, facts, new_events)], now)
    return made[0] if made else None


def hand_off_many(
    session: Session, playbook: Playbook, ready: Sequence[Ready], now: datetime
) -> list[Assignment]:
    """Assign each lead a move made sales-ready, in order, and queue their alerts; the
    assignments (the moves into stages the playbook does not hand to sales get none).

    One lead (a tracking call) or a thousand (a bulk pass) take the same steps, each done
    once for all of them: the reps, their loads and the accounts read once (each routing
    decision counts in the loads the next one sees), the assignments written in one flush,
    the alerts' recipients read once and their outbox rows and notifications written
    together.
    """
    ready = [r for r in ready if is_sales_ready(playbook, r.move.to_stage)]
    if not ready:
        return []
    reps = rep_repo.list_all(session)
    by_id, by_email = {r.id: r for r in reps}, {r.email: r for r in reps}
    states = rep_service.states(session, now, reps)
    routed = []
    for item in ready:
        # Read by its caller to score the lead: from the session, no query.
        account = account_repo.get(session, item.lead.account_id) if item.lead.account_id else None
        owner = by_email.get(account.owner.strip().lower()) if account and account.owner else None
        decision = route(
            playbook.routing,
            {**item.facts, **item.score.as_facts()},
            states,
            now,
            owner.id if owner else None,
        )
        _count_assignment(states, decision.rep_id, now)
        rep = by_id.get(decision.rep_id) if decision.rep_id is not None else None
        hand_raiser = bool(item.move.hand_raiser)
        assignment = rep_repo.new_assignment(
            session,
            lead_id=item.lead.id,
            rep_id=decision.rep_id,
            team=decision.team,
            stage=item.move.to_stage.value,
            reason=decision.reason,
            hand_raiser=hand_raiser,
            assigned_at=now,
            sla_due_at=deadline(playbook, item.move.to_stage, hand_raiser, rep, now),
        )
        if rep is not None:
            item.lead.owner, item.lead.updated_at = rep.email, now
        routed.append((item, decision.team, rep, assignment))
    session.flush()  # the assignments' ids, which the alerts carry
    notification_repo.signal(session)  # queues on screen change when this commits
    unread = [r.lead.id for r in ready if r.recent is None]
    recent = event_repo.latest_of(session, unread, RECENT_EVENTS) if unread else {}
    alerts = Alerts(session)
    for item, team, rep, assignment in routed:
        payload = alert_payload(
            session, playbook, item.lead, item.move.to_stage, item.move.reason, item.score,
            rep, assignment, now,
            item.recent if item.recent is not None else recent.get(item.lead.id, []),
        )  # fmt: skip
        payload["why"]["tipped_by"] = [_activity(e) for e in item.new_events[-TIPPING_EVENTS:]]
        alerts.add("lead.sales_ready", payload, rep, now, team=team)
        if rep is not None:  # for tools that track ownership; the rep is alerted once, above
            alerts.add("lead.assigned", payload, None, now)
    alerts.write(now)
    return [assignment for _, _, _, assignment in routed]


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


class Alerts:
    """Alerts queued together in one transaction: each gets its outbox rows (one per endpoint
    that wants it and per Apprise URL, and the record of each in-app delivery) and its
    people's notifications, written by `write` in one statement each. Who they go to is read
    once for the run (`notifications.Audience`)."""

    def __init__(self, session: Session, audience: notifications.Audience | None = None) -> None:
        self.session = session
        self.audience = audience or notifications.Audience(session)
        self._outbox: list[dict[str, Any]] = []
        self._notices: list[tuple[dict[str, Any], list[int]]] = []

    def add(
        self,
        event_type: str,
        data: dict[str, Any],
        rep: Rep | None,
        now: datetime,
        team: str | None = None,
    ) -> str:
        """An alert for every endpoint that wants it and the rep's channels, delivered in the
        app to the rep (or, with no rep, to the `team` whose queue holds the lead); its id."""
        people = self.audience.recipients(rep, team)
        return self.add_to(event_type, data, _channels(rep), now, people)

    def add_to(
        self,
        event_type: str,
        data: dict[str, Any],
        urls: list[str],
        now: datetime,
        people: Sequence[User] = (),
    ) -> str:
        """An alert for every endpoint that wants it and these Apprise URLs, delivered in the
        app to these people; its id."""
        alert_id = f"alert_{uuid.uuid4().hex}"
        payload = {"id": alert_id, "type": event_type, "timestamp": now.isoformat(), "data": data}
        self._outbox += [
            _row(alert_id, event_type, "webhook", str(endpoint.id), payload, now)
            for endpoint in self.audience.endpoints()
            if event_type in endpoint.events
        ]
        self._outbox += [_row(alert_id, event_type, "apprise", url, payload, now) for url in urls]
        self._outbox += notifications.outbox_rows(alert_id, event_type, payload, people, now)
        self._notices.append((payload, [person.id for person in people]))
        return alert_id

    def write(self, now: datetime) -> None:
        """Queue what was added, in the caller's transaction (the worker delivers after it
        commits)."""
        delivery.queue(self.session, self._outbox, now)
        notifications.deliver_many(self.session, self._notices, now)
        self._outbox, self._notices = [], []


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
    alerts = Alerts(session, audience)
    alert_id = alerts.add(event_type, data, rep, now, team=team)
    alerts.write(now)
    return alert_id


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
    alerts = Alerts(session, audience)
    alert_id = alerts.add_to(event_type, data, urls, now, people)
    alerts.write(now)
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
