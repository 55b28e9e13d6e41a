"""Leads counted as they move (`lead_tallies`, kept by triggers: migration 0039): the funnel
reports' groups and data quality's missing contact fields summed from a few thousand tally
rows instead of a pass over every lead.

A tally answers a cohort of whole months of creation, filtered and grouped by the month,
source, medium, campaign and persona (`serves`); the account tier is not in a tally (an
account's tier changes without its leads changing), and the ragged ends of a range of
creation times are counted from the leads (`repositories/funnel_counts.py`). The triggers
only append rows; `fold` sums them into one row per group, which changes no figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, true
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.lead import PEOPLE_COLUMNS
from leadflow.models.lead_tally import CONTACT_FIELDS, TALLY_GROUPS, LeadTally
from leadflow.repositories._bulk import dialect_name

# The report dimensions a tally holds: `period` is the month of creation.
TALLIED = frozenset(("period", *PEOPLE_COLUMNS))
# Appended rows the worker lets gather before it folds them (each costs readers a row).
FOLD_AFTER = 5_000
_SUMMED = ("leads", "revenue", *(f"lacking_{name}" for name in CONTACT_FIELDS))


def serves(cohort: Cohort, bys: Sequence[str]) -> bool:
    """Whether tallies hold this cohort's groups (its range aside: see `_whole_month`)."""
    return cohort.tier is None and set(bys) <= TALLIED


def _whole_month(moment: datetime) -> str | None:
    """`YYYY-MM` (UTC) of a moment that starts a month (a naive one is UTC), else None: a
    tally's month is a whole month, so only such bounds are a range of them."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    if (utc.day, utc.hour, utc.minute, utc.second, utc.microsecond) != (1, 0, 0, 0, 0):
        return None
    return f"{utc.year:04d}-{utc.month:02d}"


def split_by_months(cohort: Cohort) -> tuple[Cohort | None, list[Cohort]]:
    """(the cohort's whole months of creation, or None when it holds none; its ragged ends),
    each lead in exactly one of them."""
    first = _month_start(cohort.since, later=True) if cohort.since is not None else None
    last = _month_start(cohort.until, later=False) if cohort.until is not None else None
    if first is not None and last is not None and first >= last:
        return None, [cohort]  # no whole month inside
    ends = []
    if first is not None and first != cohort.since:
        ends.append(replace(cohort, until=first))
    if last is not None and last != cohort.until:
        ends.append(replace(cohort, since=last))
    return replace(cohort, since=first, until=last), ends


def _month_start(moment: datetime, *, later: bool) -> datetime:
    """The start of a month in UTC at or after `moment` (`later`) or at or before it, as
    aware or naive as `moment` (a naive one is UTC) so it compares as the cohort's bounds do."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    start = utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if later and start < utc:
        start = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start if moment.tzinfo is not None else start.replace(tzinfo=None)


def _where(cohort: Cohort) -> ColumnElement[bool]:
    """The cohort as a condition on tallies; its bounds must start months (`_whole_month`)."""
    parts: list[ColumnElement[bool]] = []
    for bound, after in ((cohort.since, True), (cohort.until, False)):
        if bound is not None:
            month = _whole_month(bound)
            assert month is not None, "a tally's range is whole months"
            parts.append(LeadTally.month >= month if after else LeadTally.month < month)
    for name in PEOPLE_COLUMNS:
        value = getattr(cohort, name)
        if value is not None:
            parts.append(getattr(LeadTally, name) == value)
    return and_(true(), *parts)


def grouped(session: Session, cohort: Cohort, bys: Sequence[str]) -> list[tuple[Any, ...]]:
    """(each of `bys`' values, stage, reached_rank, outcome, leads, revenue) per group of the
    cohort's leads, as the grouped read of the leads gives them (`period`: `YYYY-MM`)."""
    groups = [LeadTally.month if by == "period" else getattr(LeadTally, by) for by in bys]
    fold = [LeadTally.stage, LeadTally.reached_rank, LeadTally.outcome]
    leads = func.sum(LeadTally.leads)
    query = (
        select(*groups, *fold, leads, func.sum(LeadTally.revenue))
        .where(_where(cohort))
        .group_by(*groups, *fold)
        .having(leads != 0)
    )
    return [tuple(row) for row in session.execute(query)]


def lacking(session: Session, cohort: Cohort, fields: Sequence[str]) -> tuple[int, dict[str, int]]:
    """(the cohort's leads, how many lack each of `fields`): contact fields and the
    source, medium and campaign (lacking: NULL)."""
    sums = [func.coalesce(func.sum(LeadTally.leads), 0)]
    for name in fields:
        if name in CONTACT_FIELDS:
            sums.append(func.coalesce(func.sum(getattr(LeadTally, f"lacking_{name}")), 0))
        else:
            column = getattr(LeadTally, name)
            sums.append(func.coalesce(func.sum(LeadTally.leads).filter(column.is_(None)), 0))
    size, *counts = session.execute(select(*sums).where(_where(cohort))).one()
    return int(size), {name: int(n) for name, n in zip(fields, counts, strict=True)}


def countable(field: str) -> bool:
    """Whether a tally counts the leads lacking this lead column."""
    return field in CONTACT_FIELDS or field in ("source", "medium", "campaign")


def appended(session: Session, at_least: int = FOLD_AFTER) -> bool:
    """Whether at least `at_least` rows were appended since the last fold. No index keeps
    them (each would cost every write of a lead one more entry): a fold writes its rows
    above every earlier id and triggers append above those, so the appended rows are the
    top ids, read downwards until enough are found (or the table ends: a few thousand
    folded rows)."""
    recent = (
        select(LeadTally.id)
        .where(LeadTally.folded.is_(False))
        .order_by(LeadTally.id.desc())
        .limit(at_least)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(recent)) or 0) >= at_least


def fold(session: Session) -> None:
    """Sum every group's rows into one (a group summing to no lead goes): the same figures
    in fewer rows. On PostgreSQL one statement moves exactly the rows it deleted, so rows
    other writers append meanwhile stay as they are, and it skips rows another fold holds
    (a long import folding in its transaction never makes the worker wait); SQLite has one
    writer at a time."""
    keys = [getattr(LeadTally, name) for name in ("month", *TALLY_GROUPS)]
    names = [*("month", *TALLY_GROUPS), *_SUMMED, "folded"]
    if dialect_name(session) == "postgresql":
        free = select(LeadTally.id).with_for_update(skip_locked=True)
        gone = (
            delete(LeadTally)
            .where(LeadTally.id.in_(free.scalar_subquery()))
            .returning(*keys, *_summed_columns())
            .cte("gone")
        )
        cols = [gone.c[name] for name in ("month", *TALLY_GROUPS)]
        sums = [func.sum(gone.c[name]) for name in _SUMMED]
        summed = select(*cols, *sums, true()).group_by(*cols).having(sums[0] != 0)
        session.execute(insert(LeadTally).from_select(names, summed))
        return
    top = session.scalar(select(func.max(LeadTally.id)))
    if top is None:
        return
    sums = [func.sum(column) for column in _summed_columns()]
    summed = (
        select(*keys, *sums, true()).where(LeadTally.id <= top).group_by(*keys).having(sums[0] != 0)
    )
    session.execute(insert(LeadTally).from_select(names, summed))
    session.execute(delete(LeadTally).where(LeadTally.id <= top))


def _summed_columns() -> list[Any]:
    return [getattr(LeadTally, name) for name in _SUMMED]
