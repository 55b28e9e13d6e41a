"""Closed leads with the probability they carried when their outcome was recorded.

A lead's probability is refreshed only while it has no outcome (`services/pipeline.run_live`,
`services/prediction.refresh_many`), so on a closed lead it is the last prediction made
before the outcome was known.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.lead import Lead
from leadflow.repositories.report_sql import in_cohort


def closed_between(
    session: Session, cohort: Cohort, start: datetime, end: datetime
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], list[float | None]]:
    """Probability, won, and the base log-odds of the model that made the probability, for
    cohort leads won or lost in [start, end) that carry a probability. The cohort's own
    since/until (creation) are the caller's to drop: here the period is the outcome's."""
    base = Lead.probability_contributions["base"].as_float()
    query = select(Lead.probability, Lead.outcome == "won", base).where(
        in_cohort(cohort),
        Lead.outcome.in_(["won", "lost"]),
        Lead.closed_at >= start,
        Lead.closed_at < end,
        Lead.probability.is_not(None),
    )
    rows = session.execute(query).all()
    p = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
    won = np.fromiter((bool(r[1]) for r in rows), dtype=np.bool_, count=len(rows))
    return p, won, [None if r[2] is None else float(r[2]) for r in rows]
