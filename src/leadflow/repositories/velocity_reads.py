"""Velocity's reads: the time spent in each stage a cohort lead has left.

That time is an entry of an index on velocity's own expression, which the database computes
as each stage change is written: `ix_stage_changes_time_in_stage` on SQLite (migration 0033:
the stage left, then the time), `ix_stage_changes_time_in_stage_pg` on PostgreSQL (migration
0035: the same, with the two times it reads included). For every lead, a stage's sums and the
few ranks its percentiles need are read from that index alone (`sums`, `ranked`), no row read
and no date parsed. For a narrower cohort, and where those cannot settle a figure, the moves
come out as the driver's plain tuples, the seconds as the same SQL expression, in the table's
order within each stage, so the figures keep every bit (`stage_durations`, `in_order`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Select,
    case,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.repositories._bulk import dialect_name, fetch
from leadflow.repositories.indexed_by import indexed_by
from leadflow.repositories.report_sql import (
    in_cohort,
    indexed_seconds,
    of_cohort,
    seconds_between,
)

AnySelect = Select[*tuple[Any, ...]]  # any select, whatever its columns
ROW = np.dtype([("stage", np.int64), ("seconds", np.float64)])
TIME_IN_STAGE_INDEX = "ix_stage_changes_time_in_stage"
TO_WIN_INDEX = "ix_leads_time_to_win"
# A literal: a bound 86400.0 would not match the indexes' expressions.
DAY: ColumnElement[float] = literal_column("86400.0")


@dataclass(frozen=True, slots=True)
class Sums:
    """A stage's moves out (`moves`), how many have a time (`timed`: NULL where a stored
    time could not be read), and their days' sum and sum of magnitudes, in SQLite's order."""

    moves: int
    timed: int
    days: float
    magnitude: float


def indexed(cohort: Cohort) -> bool:
    """Whether the index gives the figures for this cohort (every lead: a cohort's lead ids,
    built as a list for each statement, cost more than it saves)."""
    return cohort.is_everyone


def stage_durations(
    session: Session, cohort: Cohort, stages: Sequence[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(stage index into `stages`, -1 for any other; seconds spent in it) per move out of a
    stage, for cohort leads, in the rows' stored order (the statement as it always was: its
    plan, and so its order, is SQLite's choice)."""
    code = case({stage: k for k, stage in enumerate(stages)}, value=StageChange.from_stage,
                else_=-1)  # fmt: skip
    spent = seconds_between(session, StageChange.at, StageChange.previous_entered_at)
    query = select(code, spent).where(*_moves_out(cohort))
    rows = np.fromiter(chain.from_iterable(fetch(session, query)), ROW)
    return rows["stage"].astype(np.int64), rows["seconds"]


def sums(session: Session) -> dict[str, Sums]:
    """Per stage left (every lead): its moves, timed moves, and the sums of their days (each
    `seconds / 86400.0`, as the report divides them) and of the days' magnitudes."""
    spent = _time_in_stage(session)
    days = spent / DAY
    figures = (func.count(), func.count(spent), func.sum(days), func.sum(func.abs(days)))
    query = (
        select(StageChange.from_stage, *figures)
        .where(*_moves_out(Cohort()))
        .group_by(StageChange.from_stage)
    )
    # A few rows: a plain cursor (PostgreSQL plans no parallel workers for a named one).
    read = _through(session, query, "stage_changes", TIME_IN_STAGE_INDEX)
    return {
        stage: Sums(moves, timed, float(total or 0.0), float(magnitude or 0.0))
        for stage, moves, timed, total, magnitude in session.execute(read)
    }


def ranked(session: Session, stage: str, timed: int, ranks: Sequence[int]) -> dict[int, float]:
    """The seconds at these ranks (0-based, ascending) of the stage's `timed` moves with a
    time, sorted by it (every lead)."""
    spent = _time_in_stage(session)
    conditions = [*_moves_out(Cohort()), StageChange.from_stage == stage, spent.is_not(None)]
    return _at_ranks(session, spent, conditions, timed, ranks, "stage_changes", TIME_IN_STAGE_INDEX)


def _through(session: Session, query: AnySelect, table: str, index: str) -> Executable:
    """The query, told on SQLite to read `table` through `index` (it has no statistics to
    choose it by); PostgreSQL picks its own index (`ix_stage_changes_time_in_stage_pg`) itself."""
    if dialect_name(session) != "sqlite":
        return query
    return indexed_by(query, table, index)


def won_indexed(session: Session) -> bool:
    """Whether won leads' times to the win are in an index (SQLite, migration 0033)."""
    return dialect_name(session) == "sqlite"


def won_count(session: Session, cohort: Cohort) -> tuple[int, int]:
    """(won cohort leads with a closing time, how many of those have a time to the win)
    (SQLite: from `ix_leads_time_to_win`)."""
    to_win = _time_to_win(session)
    query = select(func.count(), func.count(to_win)).where(*_won(cohort))
    ((won, timed),) = chain.from_iterable(fetch(session, indexed_by(query, "leads", TO_WIN_INDEX)))
    return int(won), int(timed)


def won_ranked(
    session: Session, cohort: Cohort, timed: int, ranks: Sequence[int]
) -> dict[int, float]:
    """Seconds from creation to the win at these ranks (0-based, ascending) of the cohort's
    `timed` won leads, sorted by it (SQLite)."""
    to_win = _time_to_win(session)
    conditions = [*_won(cohort), to_win.is_not(None)]
    return _at_ranks(session, to_win, conditions, timed, ranks, "leads", TO_WIN_INDEX)


def _at_ranks(
    session: Session,
    value: ColumnElement[float],
    conditions: list[ColumnElement[bool]],
    n: int,
    ranks: Sequence[int],
    table: str,
    index: str,
) -> dict[int, float]:
    """`value` at these ranks of the n rows meeting `conditions`, sorted by it: each run of
    consecutive ranks one range of the index, walked to from its nearer end (both engines
    step through every entry an OFFSET skips)."""
    runs = _runs(ranks)
    reads = []
    for start, stop in runs:
        from_top = start + stop > n
        reads.append(
            select(value)
            .where(*conditions)
            .order_by(value.desc() if from_top else value)
            .limit(stop - start)
            .offset(n - stop if from_top else start)
        )
    if dialect_name(session) == "sqlite":
        values = [_values(fetch(session, indexed_by(read, table, index))) for read in reads]
    else:
        values = _read_at_once(session, reads)
    found: dict[int, float] = {}
    for (start, stop), run in zip(runs, values, strict=True):
        found.update(zip(range(start, stop), sorted(run), strict=True))
    return found


def _values(chunks: Iterable[list[tuple[Any, ...]]]) -> list[Any]:
    return list(chain.from_iterable(chain.from_iterable(chunks)))


def _read_at_once(session: Session, reads: Sequence[AnySelect]) -> list[list[Any]]:
    """Each read's values, from one statement (PostgreSQL: a round trip per run of ranks cost
    more than reading them), each read's rows tagged with its place."""
    tagged = [read.add_columns(literal(k, Integer)) for k, read in enumerate(reads)]
    values: list[list[Any]] = [[] for _ in reads]
    for value, k in session.execute(union_all(*tagged)):
        values[k].append(value)
    return values


def in_order(session: Session, stage: str) -> npt.NDArray[np.float64]:
    """A stage's seconds in the table's order (SQLite, every lead: the order in which
    `stage_durations` read them there before the index, scanning the table)."""
    query = (
        select(_time_in_stage(session))
        .where(*_moves_out(Cohort()), StageChange.from_stage == stage)
        .order_by(StageChange.id)
    )
    values = chain.from_iterable(chain.from_iterable(fetch(session, query)))
    return np.fromiter((np.nan if v is None else v for v in values), np.float64)


def _moves_out(cohort: Cohort) -> list[ColumnElement[bool]]:
    """Moves out of a stage with a known entry time (the index's condition) of cohort leads."""
    return [
        StageChange.from_stage.is_not(None),
        StageChange.previous_entered_at.is_not(None),
        of_cohort(StageChange.lead_id, cohort),
    ]


def _won(cohort: Cohort) -> list[ColumnElement[bool]]:
    """Won cohort leads with a closing time (the condition of `ix_leads_time_to_win`, with
    literals: SQLite uses a partial index only for a condition it can see)."""
    return [Lead.outcome == literal_column("'won'"), Lead.closed_at.is_not(None), in_cohort(cohort)]


def _time_to_win(session: Session) -> ColumnElement[float]:
    """Seconds from creation to the win: `ix_leads_time_to_win`'s expression, word for word."""
    return indexed_seconds(session, Lead.closed_at, Lead.created_at)


def _runs(ranks: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending ranks as [start, stop) runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for rank in ranks:
        if runs and runs[-1][1] == rank:
            runs[-1] = (runs[-1][0], rank + 1)
        else:
            runs.append((rank, rank + 1))
    return runs


def _time_in_stage(session: Session) -> ColumnElement[float]:
    """Seconds from entering the stage to leaving it (on SQLite as `TIME_IN_STAGE_INDEX`
    holds them)."""
    return indexed_seconds(session, StageChange.at, StageChange.previous_entered_at)
