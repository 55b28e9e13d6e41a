"""How far the cohort's leads got, grouped: the funnel reports' one pass over the leads.

The leads are grouped by the stored columns themselves (stage, reached_rank, outcome), not
by an expression of them: the furthest rank and the won revenue of each group are folded in
Python over a few hundred groups. Grouped by plain columns, SQLite reads the groups in the
order of an index that starts with them, instead of sorting a million rows in a temporary
b-tree (five sixths of the funnel's time): `ix_leads_funnel_months` (SQLite only: the month
is a substring of the stored text) for the funnel and cohorts by month,
`ix_leads_funnel_people` for conversion by source, medium, campaign or persona; any other
grouping, or a range of creation times not in whole months, reads the covering
`ix_leads_reports` and sorts. SQLite is told which (`INDEXED BY`):
`tests/repositories/test_funnel_counts.py` reads its plans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    and_,
    func,
    select,
)
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.core.stages import FUNNEL
from leadflow.models.account import Account
from leadflow.models.lead import (
    FUNNEL_MONTHS_INDEX,
    FUNNEL_PEOPLE_INDEX,
    PEOPLE_COLUMNS,
    REPORTS_INDEX,
    Lead,
)
from leadflow.repositories._bulk import dialect_name
from leadflow.repositories.indexed_by import indexed_by
from leadflow.repositories.report_sql import in_cohort, month_of, month_start

Row = tuple[tuple[Any, ...], int, int, float]
RANKS = {stage.value: k for k, stage in enumerate(FUNNEL)}  # nurture, disqualified: -1


def furthest_by_many(
    session: Session, cohort: Cohort, dimensions: Sequence[ColumnElement[Any]], bys: Sequence[str]
) -> list[Row]:
    """(groups, furthest rank, leads, revenue) of the cohort's leads, grouped by the
    `dimensions` (expressions on leads, named `bys`), in no set order."""
    folded: dict[tuple[tuple[Any, ...], int], list[Any]] = defaultdict(lambda: [0, 0.0])
    for part in _parts(session, cohort, bys):
        query, keys, width = grouped_query(session, part, dimensions, bys)
        for row in session.execute(query):
            stage, reached, outcome, count, amount = row[width:]
            rank = max(RANKS.get(stage, -1), int(reached))
            into = folded[(_picked(row, keys), rank)]
            into[0] += int(count)
            if outcome == "won":
                into[1] += float(amount)
    return [(groups, rank, n, revenue) for (groups, rank), (n, revenue) in folded.items()]


def _parts(session: Session, cohort: Cohort, bys: Sequence[str]) -> list[Cohort]:
    """The cohort as ranges of creation to count one by one: on SQLite, a range that the
    months index could read but for its ragged ends (the plan's last 180 days) is its whole
    months, read in index order, and the days before and after them, read and sorted; the
    leads of each part are the cohort's, each in exactly one part (the bounds are shared).
    Otherwise the cohort itself."""
    if dialect_name(session) != "sqlite" or cohort.tier is not None or _filtered(cohort):
        return [cohort]
    if list(bys) not in ([], ["period"]) or not _ranged(cohort):
        return [cohort]
    first = _month_start(cohort.since, later=True) if cohort.since is not None else None
    last = _month_start(cohort.until, later=False) if cohort.until is not None else None
    if first is not None and last is not None and first >= last:
        return [cohort]  # no whole month inside
    parts = [replace(cohort, since=first, until=last)]
    if first is not None and first != cohort.since:
        parts.append(replace(cohort, until=first))
    if last is not None and last != cohort.until:
        parts.append(replace(cohort, since=last))
    return parts


def _month_start(moment: datetime, *, later: bool) -> datetime:
    """The start of a month in UTC at or after `moment` (`later`) or at or before it, as
    aware or naive as `moment` (a naive one is UTC) so it compares as the cohort's bounds do."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    start = utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if later and start < utc:
        start = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start if moment.tzinfo is not None else start.replace(tzinfo=None)


def grouped_query(
    session: Session, cohort: Cohort, dimensions: Sequence[ColumnElement[Any]], bys: Sequence[str]
) -> tuple[Executable, list[int], int]:
    """The grouped query, where each asked dimension sits among its group columns, and how
    many group columns come before the stage's."""
    fold = [Lead.stage, Lead.reached_rank, Lead.outcome]
    streamed = _streamed(session, cohort, bys)
    if streamed is None:
        groups = [d.label(f"g{k}") for k, d in enumerate(dimensions)]
        keys = list(range(len(groups)))
    else:
        index, columns = streamed
        groups = [c.label(f"g{k}") for k, c in enumerate(columns)]
        people = index == FUNNEL_PEOPLE_INDEX
        keys = [PEOPLE_COLUMNS.index(by) for by in bys] if people else [0] * len(bys)
    amount = func.coalesce(func.sum(Lead.outcome_amount), 0.0)
    where = in_cohort(cohort)
    if streamed is not None and _ranged(cohort):  # the same range, in whole months
        month = month_of(session, Lead.created_at)
        where = in_cohort(replace(cohort, since=None, until=None))
        if cohort.since is not None:
            where = and_(where, month >= _month(cohort.since))
        if cohort.until is not None:
            where = and_(where, month < _month(cohort.until))
    query = (
        select(*groups, *fold, func.count(), amount)
        .select_from(Lead)
        .where(where)
        .group_by(*_grouping(session, groups, bys), *fold)
    )
    if "tier" in bys:  # the only dimension off the leads table
        return query.outerjoin(Account, Account.id == Lead.account_id), keys, len(groups)
    if dialect_name(session) != "sqlite" or cohort.tier is not None:
        return query, keys, len(groups)
    # SQLite has no statistics here, and would rather seek a filter's own index (then read
    # every row it finds and sort them) or scan one whose order saves no sort: it is told.
    index = streamed[0] if streamed is not None else REPORTS_INDEX
    return indexed_by(query, "leads", index), keys, len(groups)


def _grouping(
    session: Session, groups: Sequence[ColumnElement[Any]], bys: Sequence[str]
) -> list[ColumnElement[Any]]:
    """What the groups are grouped by: themselves, except PostgreSQL's month, grouped by its
    first instant (`month_start`, the months index's leading expression: the groups come in
    that index's order, with no hashing and no `to_char` per lead) and printed once per group
    (its `to_char` is of that very expression). Streamed groups (SQLite) are plain columns."""
    if dialect_name(session) != "postgresql" or "period" not in bys:
        return list(groups)
    month = month_start(Lead.created_at)
    return [month if by == "period" else group for group, by in zip(groups, bys, strict=True)]


def _streamed(
    session: Session, cohort: Cohort, bys: Sequence[str]
) -> tuple[str, list[ColumnElement[Any]]] | None:
    """SQLite: the index whose order gives the groups (and the group columns in that
    order), when there is one for `bys` and it holds every column the cohort filters on.
    Without `bys`, by month too: no index starts with the stage's columns. A range of
    creation times in whole months is a range of the months index; any other range reads
    `ix_leads_reports` instead, and sorts what it finds."""
    if dialect_name(session) != "sqlite" or cohort.tier is not None:
        return None
    months = all(_month(moment) is not None for moment in (cohort.since, cohort.until) if moment)
    if list(bys) in ([], ["period"]) and months and not _filtered(cohort):
        return FUNNEL_MONTHS_INDEX, [month_of(session, Lead.created_at)]
    if _ranged(cohort):
        return None
    if bys and set(bys) <= set(PEOPLE_COLUMNS):
        return FUNNEL_PEOPLE_INDEX, [getattr(Lead, name) for name in PEOPLE_COLUMNS]
    return None


def _month(moment: datetime) -> str | None:
    """`YYYY-MM` of a moment that starts a month in UTC, as stored (a naive one is UTC), so
    `created_at >= moment` is `substr(created_at, 1, 7) >= that` on the stored text."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    if (utc.day, utc.hour, utc.minute, utc.second, utc.microsecond) != (1, 0, 0, 0, 0):
        return None
    return f"{utc.year:04d}-{utc.month:02d}"


def _filtered(cohort: Cohort) -> bool:
    """Whether the cohort names a source, medium, campaign or persona (not in the months
    index: read there, each would cost a lookup of the lead's row)."""
    return any(getattr(cohort, name) is not None for name in PEOPLE_COLUMNS)


def _ranged(cohort: Cohort) -> bool:
    return cohort.since is not None or cohort.until is not None


def _picked(row: Any, keys: list[int]) -> tuple[Any, ...]:
    return tuple(row[k] for k in keys)
