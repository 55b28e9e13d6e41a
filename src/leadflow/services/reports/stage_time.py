"""Velocity's figures: days in each stage (count, rounded mean, median, 90th percentile) and
days from creation to the win.

From the indexes of those times (`velocity_reads`: a count, a sum and a few ranks,
`core.ranked_figures` turning them into NumPy's very figures; days in a stage on both engines,
days to the win on SQLite); a narrower cohort's days in a stage, a figure those cannot settle
and PostgreSQL's days to the win (one row per won lead) from every value, as the report
always computed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from leadflow.core.ranked_figures import needed_ranks, percentiles_at, rounded_mean
from leadflow.core.report_math import Cohort, percentiles
from leadflow.repositories import reports as queries
from leadflow.repositories import velocity_reads

DAY = 86400.0


def days_in(session: Session, cohort: Cohort, stages: Sequence[str]) -> list[dict[str, Any]]:
    """Per stage left by at least one cohort lead (in `stages` order): n, mean_days,
    p50_days and p90_days."""
    if not velocity_reads.indexed(cohort):
        codes, seconds = velocity_reads.stage_durations(session, cohort, stages)
        return [row for k, stage in enumerate(stages)
                if (row := _figures(stage, seconds[codes == k] / DAY))]  # fmt: skip
    found = velocity_reads.sums(session)
    rows = []
    for stage in stages:
        sums = found.get(stage)
        if sums is None or sums.moves == 0:
            continue
        mean = rounded_mean(sums.days, sums.magnitude, sums.moves)
        if mean is None or sums.timed != sums.moves:  # only the values themselves can say
            rows.append(_figures(stage, velocity_reads.in_order(session, stage) / DAY))
            continue
        ranks = velocity_reads.ranked(session, stage, sums.moves, needed_ranks(sums.moves))
        days = {rank: seconds / DAY for rank, seconds in ranks.items()}
        rows.append({"stage": stage, "n": sums.moves, "mean_days": mean,
                     **_in_days(percentiles_at(sums.moves, days))})  # fmt: skip
    return rows


def to_customer(session: Session, cohort: Cohort) -> dict[str, Any]:
    """n, p50_days and p90_days from creation to the win, for the cohort's won leads."""
    if velocity_reads.won_indexed(session):
        won, timed = velocity_reads.won_count(session, cohort)
        if won == timed:
            ranks = velocity_reads.won_ranked(session, cohort, won, needed_ranks(won))
            days = {rank: seconds / DAY for rank, seconds in ranks.items()}
            return {"n": won, **_in_days(percentiles_at(won, days))}
    values = np.asarray(queries.lead_to_customer_seconds(session, cohort)) / DAY
    return {"n": int(values.size), **_in_days(percentiles(values))}


def _figures(stage: str, days: npt.NDArray[np.float64]) -> dict[str, Any]:
    """The figures from every value, in the rows' order (the mean keeps its bits); {} for
    none."""
    if not days.size:
        return {}
    mean = round(float(days.mean()), 2)
    return {"stage": stage, "n": int(days.size), "mean_days": mean,
            **_in_days(percentiles(days))}  # fmt: skip


def _in_days(values: dict[str, float | None]) -> dict[str, float | None]:
    return {f"{key}_days": value for key, value in values.items()}
