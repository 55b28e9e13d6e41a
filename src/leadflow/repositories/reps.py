"""Reps and their assignments: who is on which team, and how loaded they are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, defer

from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.models.rep import Rep


def create(session: Session, **fields: Any) -> Rep:
    """Add a rep and flush it so it has an id."""
    rep = Rep(**fields)
    session.add(rep)
    session.flush()
    return rep


def get(session: Session, rep_id: int) -> Rep | None:
    """One rep by id."""
    return session.get(Rep, rep_id)


def get_by_email(session: Session, email: str) -> Rep | None:
    """One rep by e-mail (lowercase)."""
    return session.scalar(select(Rep).where(Rep.email == email.strip().lower()))


_ALL_REPS = select(Rep).order_by(Rep.team, Rep.name)  # built once: every hand-off reads them


def emails(session: Session) -> set[str]:
    """Every rep's e-mail (lowercase)."""
    return set(session.scalars(select(Rep.email)))


def list_all(session: Session) -> list[Rep]:
    """Every rep, by team then name."""
    return list(session.scalars(_ALL_REPS))


# Built once: every hand-off asks (building the statement cost more than running it).
_LOADS = (
    select(
        Assignment.rep_id,
        func.count(case((Assignment.assigned_at >= bindparam("midnight"), 1))),
        func.max(Assignment.assigned_at),
    )
    .where(
        Assignment.rep_id.in_(bindparam("rep_ids", expanding=True)),
        Assignment.assigned_at >= bindparam("since"),
    )
    .group_by(Assignment.rep_id)
)


def loads(
    session: Session, since: datetime, midnights: dict[int, datetime]
) -> dict[int, tuple[int, datetime]]:
    """rep id -> (hand-offs since that rep's midnight, the latest since `since`), for the reps
    in `midnights` with a hand-off since `since` (not before any midnight). One range of
    `ix_assignments_rep_load` per rep: the reps sharing a midnight are read together."""
    found: dict[int, tuple[int, datetime]] = {}
    by_midnight: dict[datetime, list[int]] = {}
    for rep_id, midnight in midnights.items():
        by_midnight.setdefault(midnight, []).append(rep_id)
    for midnight, rep_ids in by_midnight.items():
        params = {"midnight": midnight, "since": since, "rep_ids": rep_ids}
        found.update(
            (rep, (count, latest)) for rep, count, latest in session.execute(_LOADS, params) if rep
        )
    return found


def add_assignment(session: Session, **fields: Any) -> Assignment:
    """Record a hand-off (flushed: it has its id)."""
    assignment = new_assignment(session, **fields)
    session.flush()
    return assignment


def new_assignment(session: Session, **fields: Any) -> Assignment:
    """Record a hand-off at the session's next flush (many are then written together)."""
    assignment = Assignment(**fields)
    session.add(assignment)
    return assignment


def as_newest(session: Session, assignment: Assignment) -> Assignment:
    """The hand-off as its lead's newest: when another of the lead's is newer (as a merge can
    leave them), written again under the next id and its old row deleted. The queue, the
    lead's page and the reports take a lead's newest hand-off for its current one."""
    newest = session.scalar(
        select(func.max(Assignment.id)).where(Assignment.lead_id == assignment.lead_id)
    )
    if newest == assignment.id:
        return assignment
    table = Assignment.__table__
    fields = {c.key: getattr(assignment, c.key) for c in table.columns if not c.primary_key}
    session.delete(assignment)
    return add_assignment(session, **fields)


# Built once: every sales action asks it (`sla.touch`); building a statement costs more
# than running it on SQLite.
_OPEN_ASSIGNMENT = (
    select(Assignment)
    .where(
        Assignment.lead_id == bindparam("lead_id"),
        or_(Assignment.status == "open", Assignment.status == "breached"),
    )
    .order_by(Assignment.id.desc())
    .limit(1)
)


def open_assignment(session: Session, lead_id: int) -> Assignment | None:
    """The lead's latest open hand-off, if any."""
    return session.scalar(_OPEN_ASSIGNMENT, {"lead_id": lead_id})


def latest_assignment(session: Session, lead_id: int) -> tuple[Assignment, Rep | None] | None:
    """The lead's newest hand-off and its rep."""
    query = (
        select(Assignment, Rep)
        .outerjoin(Rep, Assignment.rep_id == Rep.id)
        .where(Assignment.lead_id == lead_id)
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    return (row[0], row[1]) if row else None


def overdue(session: Session, now: datetime, limit: int = 500) -> list[Assignment]:
    """Untouched hand-offs whose deadline has passed, oldest deadline first."""
    query = (
        select(Assignment)
        .where(
            Assignment.status.in_(["open", "breached"]),
            Assignment.first_touch_at.is_(None),
            Assignment.sla_due_at.is_not(None),
            Assignment.sla_due_at <= now,
        )
        .order_by(Assignment.sla_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def assignments_between(session: Session, start: datetime, end: datetime) -> list[Assignment]:
    """Hand-offs made in [start, end)."""
    query = select(Assignment).where(Assignment.assigned_at >= start, Assignment.assigned_at < end)
    return list(session.scalars(query))


def queue(
    session: Session,
    stages: list[str],
    owner: str | None,
    teams: Sequence[str] = (),
    limit: int = 200,
) -> list[tuple[Any, ...]]:
    """Sales-ready leads (of one owner, and the unowned ones waiting in these teams' queues;
    or all) with their newest hand-off, soonest deadline first: (lead, assignment or None)."""
    latest = (
        select(Assignment.lead_id, func.max(Assignment.id).label("id"))
        .group_by(Assignment.lead_id)
        .subquery()
    )
    query = (
        select(Lead, Assignment)
        # The queue shows names and numbers: the JSON columns stay unread.
        .options(defer(Lead.attributes), defer(Lead.contributions))
        .options(defer(Lead.probability_reasons), defer(Lead.probability_contributions))
        .outerjoin(latest, latest.c.lead_id == Lead.id)
        .outerjoin(Assignment, Assignment.id == latest.c.id)
        .where(Lead.stage.in_(stages))
        # Soonest deadline first; among equals, the likeliest to buy (the model's
        # probability, when one is trained), then the highest score.
        .order_by(
            Assignment.sla_due_at.is_(None),
            Assignment.sla_due_at,
            Lead.probability.is_(None),
            Lead.probability.desc(),
            Lead.total.desc(),
        )
        .limit(limit)
    )
    if owner is not None:
        waiting = and_(Lead.owner.is_(None), Assignment.team.in_(list(teams)))
        query = query.where(or_(Lead.owner == owner, waiting) if teams else Lead.owner == owner)
    return [tuple(row) for row in session.execute(query)]
