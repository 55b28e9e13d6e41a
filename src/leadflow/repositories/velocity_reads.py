"""Velocity's reads, as columns: the time spent in each stage a cohort lead has left.

Hundreds of thousands of stage changes at a million leads: they come out as the driver's
plain tuples, the stage as a small integer (no string object per row) and the seconds as the
same SQL expression as before, in the same order, so the report's figures keep every bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import numpy.typing as npt
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.stage_change import StageChange
from leadflow.repositories._bulk import fetch
from leadflow.repositories.report_sql import of_cohort, seconds_between

ROW = np.dtype([("stage", np.int64), ("seconds", np.float64)])


def stage_durations(
    session: Session, cohort: Cohort, stages: Sequence[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(stage index into `stages`, -1 for any other; seconds spent in it) per move out of a
    stage, for cohort leads, in the rows' stored order."""
    code = case({stage: k for k, stage in enumerate(stages)}, value=StageChange.from_stage,
                else_=-1)  # fmt: skip
    spent = seconds_between(session, StageChange.at, StageChange.previous_entered_at)
    query = select(code, spent).where(
        StageChange.from_stage.is_not(None),
        StageChange.previous_entered_at.is_not(None),
        of_cohort(StageChange.lead_id, cohort),
    )
    rows = np.fromiter(chain.from_iterable(fetch(session, query)), ROW)
    return rows["stage"].astype(np.int64), rows["seconds"]
