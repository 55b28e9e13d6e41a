"""Who may see and act on which lead: one set of rules for the pages and the REST API.

People sign in with a role (`core.roles.USER_GRANTS`); a rep sees and acts only on the leads
routed to them and on leads nobody owns yet (which accepting claims); their queue shows their
own and those waiting unowned in their team's queue. Managers, marketing and
admins see every lead their role may read. An API key is not a person: it is a team's
integration (a CRM sync, a website), so its role alone decides and it is never scoped to one
owner; what it does is recorded under the key's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import queue_why
from leadflow.core.errors import Forbidden
from leadflow.core.playbook import Playbook
from leadflow.core.roles import GRANTS, USER_GRANTS, Permission, Role, UserRole
from leadflow.models.api_key import ApiKey
from leadflow.models.lead import Lead
from leadflow.models.user import User
from leadflow.repositories import reps as rep_repo
from leadflow.repositories import stage_changes
from leadflow.services import queue_signals
from leadflow.services import reps as rep_service


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: `name` is a person's e-mail (what leads are owned by) or a key's name."""

    name: str
    permissions: frozenset[Permission]
    own_leads_only: bool  # a rep: only their own leads, and leads nobody owns

    @classmethod
    def person(cls, user: User) -> Actor:
        role = UserRole(user.role)
        return cls(user.email, USER_GRANTS[role], own_leads_only=role is UserRole.REP)

    @classmethod
    def key(cls, api_key: ApiKey) -> Actor:
        return cls(api_key.name, GRANTS[Role(api_key.role)], own_leads_only=False)

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def owner_scope(actor: Actor) -> str | None:
    """The owner a list or queue is limited to for this actor; None: every lead."""
    return actor.name if actor.own_leads_only else None


def refusal(actor: Actor, lead: Lead, permission: Permission = Permission.READ) -> str | None:
    """Why the actor may not do `permission` on this lead, or None when they may."""
    if not actor.may(permission):
        return f"{actor.name} may not do this (needs {permission.value} permission)"
    if actor.own_leads_only and lead.owner not in (None, actor.name):
        return f"this lead belongs to {lead.owner}, not to you"
    return None


def visible(actor: Actor, owners: dict[int, str | None]) -> set[int]:
    """Of these leads (id -> owner), the ones the actor may read."""
    if not actor.may(Permission.READ):
        return set()
    if not actor.own_leads_only:
        return set(owners)
    return {lead_id for lead_id, owner in owners.items() if owner in (None, actor.name)}


def check(actor: Actor, lead: Lead, permission: Permission = Permission.READ) -> None:
    """Forbidden (403) unless the actor may do `permission` on this lead."""
    reason = refusal(actor, lead, permission)
    if reason is not None:
        raise Forbidden(reason)


def queue(session: Session, actor: Actor, book: Playbook, now: datetime) -> list[dict[str, Any]]:
    """The sales-ready leads the actor works, soonest deadline first, with minutes left, the
    team's queue an unowned one waits in, and whether the actor may accept each
    (`reps.accept_refusal`: what the action would answer). A rep's are their own and those
    waiting unowned in their team's queue, which they may accept (an active rep's)."""
    stages = [stage.value for stage in book.lifecycle.sales_ready]
    taker = rep_service.taker_of(session, actor.name)
    scope = owner_scope(actor)
    teams = rep_service.team_queues(session, actor.name) if scope is not None else []
    found = rep_repo.queue(session, stages, scope, teams)
    ids = [lead.id for lead, _ in found]
    moves = stage_changes.latest_for(session, ids)
    weeks = queue_signals.week_counts(session, book, ids, now)
    rows = []
    for lead, assignment in found:
        due = assignment.sla_due_at if assignment else None
        move = moves.get(lead.id)
        why = queue_why.why(
            book, persona_id=lead.persona, grade=lead.grade, score=lead.total,
            move_reason=move.reason if move else None, moved_at=move.at if move else None,
            week=weeks.get(lead.id, {}),
        )  # fmt: skip
        rows.append({
            "lead": lead, "assignment": assignment, "why": why,
            "minutes_left": round((due - now).total_seconds() / 60) if due else None,
            "touched": bool(assignment and assignment.first_touch_at),
            "team_queue": assignment.team if assignment and lead.owner is None else None,
            "may_accept": rep_service.accept_refusal(lead.owner, taker) is None,
        })  # fmt: skip
    return rows


def notifications_of(actor: Actor, user: User) -> int:
    """Whose notifications a person sees: their own only, whatever their role (an alert is
    addressed to one person; a manager sees the team's alerts on /alerts, not in the bell)."""
    assert actor.name == user.email, "a person's notifications are read as that person"
    return user.id
