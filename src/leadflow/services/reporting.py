"""Small counts the CLI shows; the full reports live with the closed loop."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadflow.core.stages import FUNNEL, Stage
from leadflow.repositories import leads as lead_repo


def lead_count(session: Session) -> int:
    """How many leads there are."""
    return sum(lead_repo.count_by_stage(session).values())


def stage_counts(session: Session) -> dict[str, int]:
    """Leads per stage, in funnel order, nurture and disqualified last."""
    counts = lead_repo.count_by_stage(session)
    order = [*FUNNEL, Stage.NURTURE, Stage.DISQUALIFIED]
    return {stage.value: counts.get(stage.value, 0) for stage in order}
