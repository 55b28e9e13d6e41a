"""Ranked lists of leads: one page in an order, filtered, and how many the filter selects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.models.lead import Lead

# A lead without an owner or a grade comes last in both engines (SQLite sorts NULL first).
SORTS = {
    "total": (Lead.total.desc(), Lead.id),
    "-total": (Lead.total.asc(), Lead.id),
    "fit": (Lead.fit.desc(), Lead.id),
    "engagement": (Lead.engagement.desc(), Lead.id),
    "stage": (Lead.stage.asc(), Lead.total.desc(), Lead.id),
    "grade": (Lead.grade.asc().nulls_last(), Lead.total.desc(), Lead.id),
    "owner": (Lead.owner.asc().nulls_last(), Lead.total.desc(), Lead.id),
    "created": (Lead.created_at.desc(), Lead.id),
}


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Which leads a listing shows; None means any."""

    stage: str | None = None
    grade: str | None = None
    persona: str | None = None
    owner: str | None = None
    account_id: int | None = None
    stages: tuple[str, ...] | None = None  # any of these

    def apply(self, query: Any) -> Any:
        if self.stages is not None:
            query = query.where(Lead.stage.in_(self.stages))
        for column, value in (
            (Lead.stage, self.stage),
            (Lead.grade, self.grade),
            (Lead.persona, self.persona),
            (Lead.owner, self.owner),
            (Lead.account_id, self.account_id),
        ):
            if value is not None:
                query = query.where(column == value)
        return query


def list_top(
    session: Session,
    *,
    stage: str | None = None,
    grade: str | None = None,
    persona: str | None = None,
    stages: tuple[str, ...] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Lead]:
    """Leads by total score, highest first (ties by id), optionally filtered."""
    wanted = LeadFilter(stage=stage, grade=grade, persona=persona, stages=stages)
    return list_leads(session, wanted, sort="total", limit=limit, offset=offset)


def list_leads(
    session: Session, wanted: LeadFilter, *, sort: str, limit: int, offset: int
) -> list[Lead]:
    """One page of leads in a SORTS order."""
    query = wanted.apply(select(Lead)).order_by(*SORTS[sort]).limit(limit).offset(offset)
    return list(session.scalars(query))


def count_leads(session: Session, wanted: LeadFilter) -> int:
    """How many leads the filter selects."""
    return int(session.scalar(wanted.apply(select(func.count()).select_from(Lead))) or 0)
