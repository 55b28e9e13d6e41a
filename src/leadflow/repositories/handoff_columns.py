"""Hand-offs as columns, for speed to lead: one row per hand-off is too many to fold in
Python row by row at a million leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ClauseElement, ColumnElement, and_, case, func, literal_column, select
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.assignment import Assignment
from leadflow.models.rep import Rep
from leadflow.repositories._bulk import dialect_name, fetch
from leadflow.repositories.indexed_by import indexed_by
from leadflow.repositories.report_sql import indexed_seconds, of_cohort

STATUSES = ("met", "breached", "open")  # coded 0, 1, 2; any other (closed) is 3
QUEUE = "(queue)"  # the rep of a hand-off to a team's queue


@dataclass(frozen=True, slots=True)
class Labelled:
    """A text column as codes into its distinct values, sorted."""

    labels: list[str]
    codes: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Handoffs:
    """Per hand-off of a cohort lead: the rep's name (QUEUE for a team's queue), the team,
    the SLA status's code (STATUSES) and minutes to the first touch (NaN: not touched)."""

    reps: Labelled
    teams: Labelled
    statuses: npt.NDArray[np.int64]
    minutes: npt.NDArray[np.float64]


# One integer per hand-off packs its rep, team, status and whether it was touched (a Python
# integer per value read costs more than the reading), then its minutes (0.0 when untouched).
ROW = np.dtype([("packed", np.int64), ("minutes", np.float64)])
NO_REP = -1
# SQLite only (migration 0033): the lead, rep, team and status of each hand-off, then the
# seconds to its first touch as SQLite computes them when the row is written or touched.
MINUTES_INDEX = "ix_assignments_time_to_touch"


def handoffs(
    session: Session, cohort: Cohort, made: tuple[datetime, datetime] | None = None
) -> Handoffs:
    """Every hand-off of a cohort lead (with `made`: every hand-off made in [start, end),
    whenever its lead came), as columns: numbers only come out of the driver (the rep's id,
    the team's code, the status's code, the minutes), names once per rep and team."""
    minutes = _minutes(session)
    status = case({name: k for k, name in enumerate(STATUSES)}, value=Assignment.status, else_=3)
    which = _which(cohort, made)
    teams = _teams(session, which, made is None)
    if not teams:  # no hand-off (and a CASE needs a WHEN)
        nothing = np.empty(0, dtype=np.int64)
        return Handoffs(Labelled([], nothing), Labelled([], nothing), nothing, np.empty(0))
    team = case({name: k for k, name in enumerate(teams)}, value=Assignment.team, else_=-1)
    untouched = case((minutes.is_(None), 1), else_=0)
    rep = func.coalesce(Assignment.rep_id, NO_REP) + 1  # from 0
    packed = ((rep * (len(teams) + 1) + team + 1) * 4 + status) * 2 + untouched
    query = select(packed, func.coalesce(minutes, 0.0)).where(which)
    numbers = fetch(session, _covered(session, query, made is None), binary=True)
    rows = np.fromiter(chain.from_iterable(numbers), ROW)
    rest, untouched_flags = np.divmod(rows["packed"], 2)
    rest, statuses = np.divmod(rest, 4)
    reps, team_codes = np.divmod(rest, len(teams) + 1)
    return Handoffs(
        _by_name(reps - 1, _rep_names(session)),
        _by_name(team_codes - 1, dict(enumerate(teams))),
        statuses,
        np.where(untouched_flags == 1, np.nan, rows["minutes"]),  # NULL: not touched
    )


def _which(cohort: Cohort, made: tuple[datetime, datetime] | None) -> ColumnElement[bool]:
    """The hand-offs of the cohort's leads, or those made in [start, end)."""
    if made is None:
        return of_cohort(Assignment.lead_id, cohort)
    return and_(Assignment.assigned_at >= made[0], Assignment.assigned_at < made[1])


def _teams(session: Session, which: ColumnElement[bool], covered: bool) -> list[str]:
    """The teams these hand-offs went to."""
    query = _covered(session, select(Assignment.team).distinct().where(which), covered)
    return sorted(team for (team,) in chain.from_iterable(fetch(session, query)))


def _minutes(session: Session) -> ColumnElement[Any]:
    """Minutes from the hand-off to the first touch (NULL: not touched); on SQLite the
    seconds as `MINUTES_INDEX` holds them. On PostgreSQL `date_part`, a double precision
    straight away, where `EXTRACT` makes a numeric to cast: the same value for each of the
    benchmark's 150,000 hand-offs, at less than half the server's CPU (no index holds it)."""
    if dialect_name(session) == "postgresql":
        elapsed = Assignment.first_touch_at - Assignment.assigned_at
        return func.date_part(literal_column("'epoch'"), elapsed) / 60.0
    return indexed_seconds(session, Assignment.first_touch_at, Assignment.assigned_at) / 60.0


def _covered(session: Session, query: ClauseElement, covered: bool = True) -> Any:
    """The query reading `MINUTES_INDEX` alone on SQLite (which would read the rows: the
    index does not hold the two times its expression is made of); not when it filters by the
    hand-off's time (`covered` False), which the index does not hold either."""
    if dialect_name(session) != "sqlite" or not covered:
        return query
    return indexed_by(query, "assignments", MINUTES_INDEX)


def _rep_names(session: Session) -> dict[int, str]:
    """Every rep's name by id, and QUEUE for a hand-off to no rep."""
    names: dict[int, str] = {NO_REP: QUEUE}
    names.update((rep_id, name) for rep_id, name in session.execute(select(Rep.id, Rep.name)))
    return names


def _by_name(keys: npt.NDArray[np.int64], names: dict[int, str]) -> Labelled:
    """Keys (ids or codes) labelled by their names: codes into the sorted distinct names of
    the keys present (two reps of one name are one label, as when names were read)."""
    present = np.unique(keys)
    labels = sorted({names.get(int(key), QUEUE) for key in present})
    rank = {label: k for k, label in enumerate(labels)}
    lookup = np.array([rank[names.get(int(key), QUEUE)] for key in present], dtype=np.int64)
    codes = lookup[np.searchsorted(present, keys)] if keys.size else keys
    return Labelled(labels, codes)
