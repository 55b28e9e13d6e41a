"""How far the cohort's leads got, grouped: the funnel reports' counts.

Summed from `lead_tallies` (leads counted as they move) when the tallies hold the cohort and
its groups (the month of creation, source, medium, campaign, persona); the ragged ends of a
range of creation times that is not whole months (the plan's last 180 days), and any other
grouping (grade, score band, tier) or a tier's cohort, are counted from the leads: one
grouped pass over the covering `ix_leads_reports`. Each lead is in exactly one part (the
bounds are shared). Either way the groups come by stored columns (stage, reached_rank,
outcome), and the furthest rank and the won revenue of each group are folded in Python over
a few hundred groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    func,
    select,
)
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.core.stages import FUNNEL
from leadflow.models.account import Account
from leadflow.models.lead import REPORTS_INDEX, Lead
from leadflow.repositories import lead_tallies
from leadflow.repositories._bulk import dialect_name
from leadflow.repositories.indexed_by import indexed_by
from leadflow.repositories.report_sql import in_cohort, month_start

Row = tuple[tuple[Any, ...], int, int, float]
RANKS = {stage.value: k for k, stage in enumerate(FUNNEL)}  # nurture, disqualified: -1


def furthest_by_many(
    session: Session, cohort: Cohort, dimensions: Sequence[ColumnElement[Any]], bys: Sequence[str]
) -> list[Row]:
    """(groups, furthest rank, leads, revenue) of the cohort's leads, grouped by the
    `dimensions` (expressions on leads, named `bys`), in no set order."""
    folded: dict[tuple[tuple[Any, ...], int], list[Any]] = defaultdict(lambda: [0, 0.0])
    width = len(bys)
    for row in _rows(session, cohort, dimensions, bys):
        stage, reached, outcome, count, amount = row[width:]
        rank = max(RANKS.get(stage, -1), int(reached))
        into = folded[(tuple(row[:width]), rank)]
        into[0] += int(count)
        if outcome == "won":
            into[1] += float(amount)
    return [(groups, rank, n, revenue) for (groups, rank), (n, revenue) in folded.items()]


def _rows(
    session: Session, cohort: Cohort, dimensions: Sequence[ColumnElement[Any]], bys: Sequence[str]
) -> Iterator[Sequence[Any]]:
    """(each dimension's value, stage, reached_rank, outcome, leads, amount) per group, from
    the tallies for the whole months and from the leads for the rest."""
    if not lead_tallies.serves(cohort, bys):
        yield from session.execute(grouped_query(session, cohort, dimensions, bys))
        return
    whole, ends = lead_tallies.split_by_months(cohort)
    if whole is not None:
        yield from lead_tallies.grouped(session, whole, bys)
    for part in ends:
        yield from session.execute(grouped_query(session, part, dimensions, bys))


def grouped_query(
    session: Session, cohort: Cohort, dimensions: Sequence[ColumnElement[Any]], bys: Sequence[str]
) -> Executable:
    """The leads' grouped query: each dimension, then stage, reached_rank, outcome, the count
    and the amount."""
    groups = [d.label(f"g{k}") for k, d in enumerate(dimensions)]
    fold = [Lead.stage, Lead.reached_rank, Lead.outcome]
    amount = func.coalesce(func.sum(Lead.outcome_amount), 0.0)
    query = (
        select(*groups, *fold, func.count(), amount)
        .select_from(Lead)
        .where(in_cohort(cohort))
        .group_by(*_grouping(session, groups, bys), *fold)
    )
    if "tier" in bys:  # the only dimension off the leads table
        return query.outerjoin(Account, Account.id == Lead.account_id)
    if dialect_name(session) != "sqlite" or cohort.tier is not None:
        return query
    # SQLite has no statistics here, and would rather seek a filter's own index (then read
    # every row it finds) than the covering one: it is told.
    return indexed_by(query, "leads", REPORTS_INDEX)


def _grouping(
    session: Session, groups: Sequence[ColumnElement[Any]], bys: Sequence[str]
) -> list[ColumnElement[Any]]:
    """What the groups are grouped by: themselves, except PostgreSQL's month, grouped by its
    first instant (`month_start`: no `to_char` per lead) and printed once per group (its
    `to_char` is of that very expression)."""
    if dialect_name(session) != "postgresql" or "period" not in bys:
        return list(groups)
    month = month_start(Lead.created_at)
    return [month if by == "period" else group for group, by in zip(groups, bys, strict=True)]
