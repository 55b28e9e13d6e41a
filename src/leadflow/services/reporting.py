"""Small counts the CLI shows, and the upkeep of the counts the reports sum; the full reports
live with the closed loop."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadflow.core.stages import FUNNEL, Stage
from leadflow.repositories import lead_tallies
from leadflow.repositories import leads as lead_repo


def lead_count(session: Session) -> int:
    """How many leads there are."""
    return sum(lead_repo.count_by_stage(session).values())


def stage_counts(session: Session) -> dict[str, int]:
    """Leads per stage, in funnel order, nurture and disqualified last."""
    counts = lead_repo.count_by_stage(session)
    order = [*FUNNEL, Stage.NURTURE, Stage.DISQUALIFIED]
    return {stage.value: counts.get(stage.value, 0) for stage in order}


def tallies_to_fold(session: Session, *, at_least: int = lead_tallies.FOLD_AFTER) -> bool:
    """Whether at least `at_least` rows were appended to the leads' tallies since they were
    last folded."""
    return lead_tallies.appended(session, at_least)


def fold_tallies(session: Session, *, at_least: int = lead_tallies.FOLD_AFTER) -> bool:
    """Fold the leads' tallies (`repositories/lead_tallies.py`) when at least `at_least` rows
    were appended since the last fold: the same figures in fewer rows for the reports to sum.
    Whether it folded."""
    if not tallies_to_fold(session, at_least=at_least):
        return False
    lead_tallies.fold(session)
    return True
