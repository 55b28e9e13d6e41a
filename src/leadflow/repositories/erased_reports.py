"""Erased people in the funnel reports: their anonymous counts, grouped like the leads are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, select, true
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.privacy import ErasedCount
from leadflow.repositories.report_sql import month_of


def _dimension(session: Session, name: str) -> ColumnElement[Any]:
    if name == "period":
        return month_of(session, ErasedCount.created_month)
    if name == "score_band":
        return cast(ErasedCount.score_band, Float)
    column: ColumnElement[Any] = getattr(ErasedCount, name)
    return column


def _in_cohort(cohort: Cohort) -> ColumnElement[bool]:
    """The cohort's filters; a period places an erased lead by the month it was created in."""
    parts: list[ColumnElement[bool]] = []
    if cohort.since is not None:
        parts.append(ErasedCount.created_month >= cohort.since)
    if cohort.until is not None:
        parts.append(ErasedCount.created_month < cohort.until)
    for name in ("source", "medium", "campaign", "persona", "tier"):
        value = getattr(cohort, name)
        if value is not None:
            parts.append(getattr(ErasedCount, name) == value)
    return and_(true(), *parts)


def furthest_by_many(
    session: Session, cohort: Cohort, bys: Sequence[str]
) -> list[tuple[tuple[Any, ...], int, int, float]]:
    """(groups, furthest rank, leads, revenue) of the erased leads in the cohort."""
    groups = [_dimension(session, by).label(f"g{k}") for k, by in enumerate(bys)]
    rank = ErasedCount.reached_rank.label("rank")
    query = (
        select(*groups, rank, func.sum(ErasedCount.leads), func.sum(ErasedCount.revenue))
        .where(_in_cohort(cohort))
        .group_by(*groups, rank)
    )
    width = len(bys)
    return [
        (tuple(row[:width]), int(row[width]), int(row[width + 1]), float(row[width + 2] or 0.0))
        for row in session.execute(query)
    ]
