"""What the models learn from: closed leads as they were when they became sales-ready."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal, or_, select
from sqlalchemy.orm import Session

from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.repositories._bulk import by_ids
from leadflow.repositories.report_sql import SALES_EVENT_SOURCES

ATTRIBUTES = ("title", "country", "source", "industry", "tier", "employees", "annual_revenue")


def _labelled_query(sales_ready: Sequence[str], negatives: Sequence[str]) -> Any:
    ready = (
        select(StageChange.lead_id, func.min(StageChange.at).label("at"))
        .where(StageChange.to_stage.in_(list(sales_ready)))
        .group_by(StageChange.lead_id)
        .subquery()
    )
    cutoff = func.coalesce(ready.c.at, Lead.closed_at, Lead.stage_changed_at, Lead.created_at)
    won = case((Lead.outcome == "won", 1), else_=0)
    return (
        select(Lead.id, won.label("won"), cutoff.label("cutoff"), *_attributes())
        .outerjoin(ready, ready.c.lead_id == Lead.id)
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(or_(Lead.outcome == "won", _negative(negatives)))
    )


def _negative(negatives: Sequence[str]) -> Any:
    """What counts as not converting: lost deals, disqualified leads, or both."""
    parts = []
    if "lost" in negatives:
        parts.append(Lead.outcome == "lost")
    if "disqualified" in negatives:
        parts.append(Lead.stage == "disqualified")
    return or_(*parts) if parts else literal(False)


NEGATIVES = ("lost", "disqualified")


def labelled(
    session: Session, sales_ready: Sequence[str], negatives: Sequence[str] = NEGATIVES
) -> list[dict[str, Any]]:
    """Leads with an outcome (won, lost, or disqualified), each with its cutoff: the first time
    it entered a sales-ready stage, else when it was closed or disqualified. Oldest first."""
    query = _labelled_query(sales_ready, negatives).subquery()
    ordered = select(query).order_by(query.c.cutoff, query.c.id)
    return [dict(row._mapping) for row in session.execute(ordered)]


def count_labelled(
    session: Session, sales_ready: Sequence[str], negatives: Sequence[str] = NEGATIVES
) -> int:
    """How many leads have an outcome to learn from."""
    query = _labelled_query(sales_ready, negatives).subquery()
    return int(session.scalar(select(func.count()).select_from(query)) or 0)


def undecided_leads(session: Session, lead_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    """Leads still to be decided (no outcome), with their attributes; only these leads when
    `lead_ids` is given."""
    query = (
        select(Lead.id, *_attributes())
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(Lead.outcome.is_(None))
        .order_by(Lead.id)
    )
    parts = by_ids(session, query, Lead.id, lead_ids)
    return [dict(row._mapping) for part in parts for row in session.execute(part)]


def _attributes() -> list[Any]:
    return [
        Lead.title, Lead.country, Lead.source, Account.industry, Account.tier,
        Account.employees, Account.annual_revenue,
        case((Lead.account_id.is_(None), "no"), else_="yes").label("has_company"),
    ]  # fmt: skip


def _kind() -> Any:
    return case(
        (Event.type == "page", literal("page ") + func.coalesce(Event.path, "?")),
        else_=literal("event ") + func.coalesce(Event.name, Event.type),
    )


def labelled_behaviour(
    session: Session, sales_ready: Sequence[str], negatives: Sequence[str] = NEGATIVES
) -> list[tuple[int, str, int]]:
    """(lead, kind, events) for labelled leads, counting only events up to each one's cutoff:
    nothing the lead did after it became sales-ready is learned from."""
    cut = _labelled_query(sales_ready, negatives).subquery()
    kind = _kind()
    query = (
        select(Event.lead_id, kind, func.count())
        .join(cut, cut.c.id == Event.lead_id)
        .where(
            Event.occurred_at <= cut.c.cutoff,
            Event.type.in_(["page", "track"]),
            Event.source.not_in(SALES_EVENT_SOURCES),
        )
        .group_by(Event.lead_id, kind)
    )
    return [(int(i), str(k), int(n)) for i, k, n in session.execute(query)]


def open_behaviour(session: Session, lead_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(lead, kind, events) so far, for leads still to be decided.

    Core on the connection (events are written with Core, so nothing of theirs waits in the
    ORM to be flushed), and for one lead, the live path's case, a statement with no list to
    expand: its execution is mostly SQLAlchemy's, so each step saved counts.
    """
    asks: list[tuple[Any, dict[str, Any]]] = (
        [(_ONE_LEAD_BEHAVIOUR, {"id": lead_ids[0]})]
        if len(lead_ids) == 1
        else [(_OPEN_BEHAVIOUR, {"ids": list(lead_ids[k : k + 5000])})
              for k in range(0, len(lead_ids), 5000)]
    )  # fmt: skip
    connection = session.connection()
    return [(int(i), str(k), int(n))
            for statement, values in asks
            for i, k, n in connection.execute(statement, values)]  # fmt: skip


# Built once: live scoring runs it for every event while a model is active. One kind
# expression in both places: PostgreSQL matches the GROUP BY to the column by identity.
_OPEN_KIND = _kind()
# The sources and types as plain comparisons, not IN lists: a list is expanded into the SQL
# text on every execution (SQLAlchemy's "post-compile" step), a comparison is bound as is.
_BEHAVIOUR_ONLY = and_(
    or_(Event.type == "page", Event.type == "track"),
    *(Event.source != source for source in SALES_EVENT_SOURCES),
)
_OPEN_BEHAVIOUR = (
    select(Event.lead_id, _OPEN_KIND, func.count())
    .where(Event.lead_id.in_(bindparam("ids", expanding=True)), _BEHAVIOUR_ONLY)
    .group_by(Event.lead_id, _OPEN_KIND)
)
_ONE_LEAD_BEHAVIOUR = (
    select(Event.lead_id, _OPEN_KIND, func.count())
    .where(Event.lead_id == bindparam("id"), _BEHAVIOUR_ONLY)
    .group_by(Event.lead_id, _OPEN_KIND)
)
