"""Hand-offs as columns: none at all is no columns, not a broken statement."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.repositories import handoff_columns


def test_no_handoffs_are_empty_columns(session: Session) -> None:
    found = handoff_columns.handoffs(session, Cohort())
    assert (found.reps.labels, found.teams.labels) == ([], [])
    assert found.reps.codes.size == found.teams.codes.size == found.statuses.size == 0
    assert found.minutes.size == 0
