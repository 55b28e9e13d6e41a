"""Hand-offs as columns, for speed to lead: one row per hand-off is too many to fold in
Python row by row at a million leads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.assignment import Assignment
from leadflow.models.rep import Rep
from leadflow.repositories.report_sql import of_cohort, seconds_between

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


def handoffs(session: Session, cohort: Cohort) -> Handoffs:
    """Every hand-off of a cohort lead, as columns (the driver's values, not result rows)."""
    minutes = seconds_between(session, Assignment.first_touch_at, Assignment.assigned_at) / 60.0
    status = case({name: k for k, name in enumerate(STATUSES)}, value=Assignment.status, else_=3)
    query = (
        select(Rep.name, Assignment.team, status, minutes)
        .select_from(Assignment)
        .outerjoin(Rep, Rep.id == Assignment.rep_id)
        .where(of_cohort(Assignment.lead_id, cohort))
    )
    with session.connection().execute(query) as result:
        rows: Sequence[Any] = result.cursor.fetchall()
    reps, teams, statuses, waits = zip(*rows, strict=True) if rows else ((), (), (), ())
    return Handoffs(
        _labelled(QUEUE if rep is None else rep for rep in reps),
        _labelled(teams),
        np.array(statuses, dtype=np.int64),
        np.array(waits, dtype=np.float64),  # None reads as NaN
    )


def _labelled(values: Iterable[str]) -> Labelled:
    seen: dict[str, int] = {}
    codes = np.fromiter((seen.setdefault(v, len(seen)) for v in values), dtype=np.int64)
    labels = sorted(seen)
    rank = np.empty(len(labels), dtype=np.int64)
    rank[[seen[label] for label in labels]] = np.arange(len(labels))
    return Labelled(labels, rank[codes] if codes.size else codes)
