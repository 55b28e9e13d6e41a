"""Handing a waiting hand-off to another owner: the SLA ladder's `reassign` step, and a
person's or a tool's change of the lead's owner (`change_owner`).

The new owner is told as a hand-off tells a rep: a `lead.assigned` alert to their channels,
their bell (or, with nobody, the team's whose queue holds the lead) and the webhooks, saying
who, why, what they did lately, who had it and by when it is due. The previous owner of a
lead given to another (by hand, or by a merge) is told in the app who has it now and why
(`tell_previous_owner`); the ladder tells the rep who let it pass with its `sla.escalated`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import Contribution, LeadScore
from leadflow.core.stages import Stage
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.models.rep import Rep
from leadflow.repositories import reps as rep_repo
from leadflow.repositories import stage_changes
from leadflow.services import handoff, notifications
from leadflow.services import reps as rep_service


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
    """Give the lead's untouched hand-off to `rep` (None: `team`'s queue) and tell them."""
    previous = lead.owner
    assignment.rep_id, assignment.team = (rep.id if rep else None), team
    assignment.reason = reason
    # The new owner's own deadline, from now in their hours: the one the queue and the lead
    # show. The status stays: a hand-off once breached stays so (`sla.touch`).
    assignment.sla_due_at = handoff.deadline(
        playbook, Stage(assignment.stage), assignment.hand_raiser, rep, now
    )
    lead.owner, lead.updated_at = (rep.email if rep else None), now
    payload = _payload(session, playbook, lead, assignment, rep, now)
    payload.update(previous_owner=previous, reassigned=True)
    told = notifications.HANDED_OVER
    handoff.queue_alert(session, told, payload, rep, now, team=team, audience=audience)


def change_owner(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    owner: str | None,
    *,
    actor: str,
    now: datetime,
) -> None:
    """Set the lead's owner. While its hand-off waits for a first touch, the hand-off follows,
    as a reassignment (`hand_over`, "reassigned by <actor>"): the owner must then be an active
    rep (Invalid naming `owner`), or None, which gives it back to its team's queue. A lead
    with no hand-off waiting takes any owner, as before (a CRM's user, say). Either way the
    previous owner is told who has it now (`tell_previous_owner`)."""
    previous, reason = lead.owner, f"reassigned by {actor}"
    waiting = waiting_hand_off(session, lead.id)
    if waiting is None:
        lead.owner = owner  # a touched hand-off is settled: who got it and when it was met
    else:
        _hand_over_to(session, playbook, waiting, lead, owner, reason=reason, now=now)
    tell_previous_owner(session, playbook, lead, previous, reason=reason, now=now)


def waiting_hand_off(session: Session, lead_id: int) -> Assignment | None:
    """The lead's hand-off still waiting for its first touch, if any: the one a new owner
    takes (a touched one is settled history)."""
    found = rep_repo.open_assignment(session, lead_id)
    return found if found is not None and found.first_touch_at is None else None


def _hand_over_to(
    session: Session,
    playbook: Playbook,
    waiting: Assignment,
    lead: Lead,
    owner: str | None,
    *,
    reason: str,
    now: datetime,
) -> None:
    """Give the waiting hand-off to the active rep `owner` names (None: its team's queue)."""
    rep = _taker(session, owner) if owner else None
    if rep is None and owner:
        message = (f"owner: {owner} is not an active rep; a lead waiting for its first touch "
                   "goes to an active rep (or null: back to its team's queue)")  # fmt: skip
        raise Invalid(message, [("owner", message)])
    if (rep.id if rep else None) == waiting.rep_id and lead.owner == (rep.email if rep else None):
        return  # nothing changes hands
    team = rep.team if rep else waiting.team
    hand_over(session, playbook, waiting, lead, rep, team=team, reason=reason, now=now)


def tell_previous_owner(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    previous: str | None,
    *,
    reason: str,
    now: datetime,
) -> None:
    """Tell `previous`, who owned the lead before it went to its owner now, in the app: who
    has it (a person, or its team's queue) and why. Nobody when the owner did not change.
    Notifications go to people who sign in, found by their rep's e-mail (`recipients`): an
    owner who is no rep (a CRM's user name) or a rep who never signs in is told nothing."""
    if previous is None or _same_person(previous, lead.owner):
        return
    rep = rep_repo.get_by_email(session, previous)
    people = notifications.recipients(session, rep) if rep is not None else []
    if not people:
        return
    data = {
        "lead": handoff.lead_card(session, playbook, lead, Stage(lead.stage)),
        "previous_owner": previous, "reassigned_to": lead.owner, "reason": reason,
        "occurred_at": now.isoformat(),
    }  # fmt: skip
    handoff.queue_to(session, notifications.REASSIGNED, data, [], now, people)


def _same_person(owner: str, other: str | None) -> bool:
    """Owners are compared as e-mails are: trimmed, in any case."""
    return other is not None and owner.strip().lower() == other.strip().lower()


def _taker(session: Session, owner: str) -> Rep | None:
    """The active rep this owner names (an e-mail, any case)."""
    email = rep_service.taker_of(session, owner)
    return rep_repo.get_by_email(session, email) if email else None


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
