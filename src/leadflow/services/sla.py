"""The SLA sweep: deadlines that passed untouched are breached and climb the escalation ladder.

Ladder steps are minutes past the deadline: `remind` alerts the rep again, `manager` alerts
the rep's manager (and the webhooks), `reassign` routes the lead to someone else, who is told
as a hand-off tells a rep (`reassign.hand_over`). Each step is taken once, in order, however
late the sweep runs.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.routing import route
from leadflow.core.stages import Stage
from leadflow.models.assignment import Assignment
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import reps as rep_repo
from leadflow.repositories import stage_changes
from leadflow.services import handoff, leads, notifications, reassign
from leadflow.services import reps as rep_service


def sweep(session: Session, playbook: Playbook, now: datetime) -> int:
    """Breach and escalate overdue hand-offs; how many changed."""
    changed = 0
    audience = notifications.Audience(session)  # who alerts go to, read once per sweep
    for assignment in rep_repo.overdue(session, now):
        changed += _escalate(session, playbook, assignment, now, audience)
    return changed


def _escalate(
    session: Session,
    playbook: Playbook,
    assignment: Assignment,
    now: datetime,
    audience: notifications.Audience,
) -> bool:
    assert assignment.sla_due_at is not None
    late = (now - assignment.sla_due_at).total_seconds() / 60
    rep = rep_repo.get(session, assignment.rep_id) if assignment.rep_id else None
    lead = lead_repo.get(session, assignment.lead_id)
    email = lead.email if lead else None
    changed = False
    if assignment.status == "open":
        assignment.status = "breached"
        about = _about(assignment, late, email)
        handoff.queue_alert(session, "sla.breached", about, rep, now, audience=audience)
        changed = True
    ladder = playbook.sla.escalation
    while assignment.escalation_level < len(ladder):
        step = ladder[assignment.escalation_level]
        if late < step.after_minutes:
            break
        assignment.escalation_level += 1
        data = {**_about(assignment, late, email), "action": step.action}
        if step.action == "reassign":
            # The new owner is told as a hand-off tells a rep; the rep who let it pass hears
            # below who has it now.
            data["reassigned_to"] = _reassign(session, playbook, assignment, now, audience)
            data["reassigned"] = True
        target = rep
        if step.action == "manager" and rep is not None and rep.manager_email:
            target = rep_repo.get_by_email(session, rep.manager_email) or rep
        handoff.queue_alert(session, "sla.escalated", data, target, now, audience=audience)
        changed = True
        if step.action == "reassign":
            break  # the steps after it count from the new owner's deadline, not yet passed
    return changed


def _about(assignment: Assignment, late: float, email: str | None) -> dict[str, object]:
    return {
        "assignment_id": assignment.id,
        "lead_id": assignment.lead_id,
        "email": email,
        "rep_id": assignment.rep_id,
        "team": assignment.team,
        "sla_due_at": assignment.sla_due_at.isoformat() if assignment.sla_due_at else None,
        "minutes_late": round(late, 1),
    }


def _reassign(
    session: Session,
    playbook: Playbook,
    assignment: Assignment,
    now: datetime,
    audience: notifications.Audience,
) -> str | None:
    """Route the lead again, to anyone but its rep; the new owner's e-mail (None: a team's
    queue)."""
    lead = lead_repo.get(session, assignment.lead_id)
    if lead is None:
        return None
    others = [r for r in rep_service.states(session, now) if r.id != assignment.rep_id]
    # The same facts the first routing saw: the lead, its account and tier, its stored score.
    scored = {"fit": lead.fit, "engagement": lead.engagement, "total": lead.total}
    facts = {**leads.facts_of(session, lead, playbook), **scored, "grade": lead.grade}
    decision = route(playbook.routing, facts, others, now)
    rep = rep_repo.get(session, decision.rep_id) if decision.rep_id else None
    reason = f"reassigned after the SLA passed: {decision.reason}"
    reassign.hand_over(session, playbook, assignment, lead, rep, team=decision.team,
                       reason=reason, now=now, audience=audience)  # fmt: skip
    return lead.owner


def touch(session: Session, lead_id: int, now: datetime) -> Assignment | None:
    """A rep touched the lead: the open hand-off's SLA is met (or was breached before)."""
    assignment = rep_repo.open_assignment(session, lead_id)
    if assignment is None or assignment.first_touch_at is not None:
        return assignment
    assignment.first_touch_at = now
    due = assignment.sla_due_at
    missed = assignment.status == "breached" or (due is not None and now > due)
    assignment.status = "breached" if missed else "met"  # a reassigned lead was breached
    return assignment


def claimed(session: Session, lead_id: int, owner: str) -> None:
    """A lead waiting in a team's queue was accepted: its newest hand-off (touched by this
    acceptance, or before) is the accepting rep's, so speed to lead and the SLA per rep count
    it under them, not under the queue."""
    latest = rep_repo.latest_assignment(session, lead_id)
    if latest is None or latest[0].rep_id is not None:
        return
    rep = rep_repo.get_by_email(session, owner)
    if rep is not None:
        latest[0].rep_id = rep.id


def month_report(session: Session, playbook: Playbook, now: datetime) -> dict[str, Any]:
    """Both sides of the agreement this month: marketing's MQLs against the commitment, and
    sales' hand-offs touched in time, late, or still waiting."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    mqls = stage_changes.entries_between(session, "mql", start, end)
    promised = playbook.sla.mql_commitment_per_month
    handoffs = rep_repo.assignments_between(session, start, end)
    touch_minutes = [
        (a.first_touch_at - a.assigned_at).total_seconds() / 60
        for a in handoffs
        if a.first_touch_at is not None
    ]
    statuses = Counter(a.status for a in handoffs)
    return {
        "month": start.strftime("%Y-%m"),
        "marketing": {
            "mqls": mqls,
            "commitment": promised,
            "share_of_commitment": round(mqls / promised, 3) if promised else None,
            "on_pace": None if not promised else mqls >= promised * _elapsed(start, end, now),
        },
        "sales": {
            "handoffs": len(handoffs),
            "met": statuses["met"],
            "breached": statuses["breached"],
            "open": statuses["open"],
            # The standard median: of an even count, the mean of the two middle values.
            "median_minutes_to_first_touch": median(touch_minutes) if touch_minutes else None,
            "recycled": stage_changes.entries_between(session, Stage.NURTURE.value, start, end),
            "disqualified": stage_changes.entries_between(
                session, Stage.DISQUALIFIED.value, start, end
            ),
        },
    }


def _elapsed(start: datetime, end: datetime, now: datetime) -> float:
    return (now - start).total_seconds() / (end - start).total_seconds()
