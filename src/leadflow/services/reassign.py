"""Handing an open hand-off to another rep (the SLA ladder's `reassign` step).

The new owner is told as a hand-off tells a rep: a `lead.assigned` alert to their channels,
their bell (or, with nobody, the team's whose queue holds the lead) and the webhooks, saying
who, why, what they did lately, who had it and by when it is due.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.scoring import Contribution, LeadScore
from leadflow.core.stages import Stage
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.models.rep import Rep
from leadflow.repositories import stage_changes
from leadflow.services import handoff, notifications


def hand_over(
    session: Session,
    playbook: Playbook,
    assignment: Assignment,
    lead: Lead,
    rep: Rep | None,
    *,
    team: str,
    reason: str,
    now: datetime,
    audience: notifications.Audience | None = None,
) -> None:
    """Give the lead's open hand-off to `rep` (None: `team`'s queue) and tell them."""
    previous = lead.owner
    assignment.rep_id, assignment.team = (rep.id if rep else None), team
    assignment.reason = reason
    if assignment.first_touch_at is None:
        # The new owner's own deadline, from now in their hours: the one the queue and the
        # lead show. The status stays: a hand-off once breached stays so (`sla.touch`).
        assignment.sla_due_at = handoff.deadline(
            playbook, Stage(assignment.stage), assignment.hand_raiser, rep, now
        )
    lead.owner, lead.updated_at = (rep.email if rep else None), now
    payload = _payload(session, playbook, lead, assignment, rep, now)
    payload.update(previous_owner=previous, reassigned=True)
    told = notifications.HANDED_OVER
    handoff.queue_alert(session, told, payload, rep, now, team=team, audience=audience)


def _payload(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    assignment: Assignment,
    rep: Rep | None,
    now: datetime,
) -> dict[str, Any]:
    """A hand-off's alert, told from what is stored: the move into the lead's stage (why),
    its stored score and explanation, its latest events."""
    moved = stage_changes.latest_for(session, [lead.id]).get(lead.id)
    why = moved.reason if moved else None
    stage = Stage(lead.stage)
    return handoff.alert_payload(
        session, playbook, lead, stage, why, _stored_score(lead), rep, assignment, now
    )


def _stored_score(lead: Lead) -> LeadScore:
    """The lead's stored score with its contributions, as scoring gave them."""
    contributions = tuple(
        Contribution(c["rule"], c.get("label") or c["rule"], c.get("kind", "fit"), c["points"])
        for c in lead.contributions or []
    )
    grade = lead.grade or "D4"  # no grade stored: scored before grades were kept
    return LeadScore(lead.fit, lead.engagement, lead.total, grade, None, contributions)
