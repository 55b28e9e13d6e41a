"""`leadflow sla`'s month (GET /api/sla): sales' median minutes to the first touch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from leadflow.core.playbook_text import parse_playbook
from leadflow.repositories import leads
from leadflow.repositories import reps as rep_repo
from leadflow.services import sla

NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
BOOK = parse_playbook("name: SLA\nsla: {mql_commitment_per_month: 10}\n")
_NUMBERS = count()


def _hand_offs(session: Session, touched_after: list[float | None]) -> None:
    """Hand-offs this month, each first touched so many minutes after it (None: not yet)."""
    for minutes in touched_after:
        n = next(_NUMBERS)
        lead = leads.create(session, email=f"lead{n}@example.com")
        at = NOW - timedelta(days=5, hours=n)
        touch = None if minutes is None else at + timedelta(minutes=minutes)
        rep_repo.add_assignment(session, lead_id=lead.id, rep_id=None, team="inbound",
                                stage="sql", reason="test", assigned_at=at,
                                first_touch_at=touch, status="met")  # fmt: skip


def _median(session: Session) -> float | None:
    median = sla.month_report(session, BOOK, NOW)["sales"]["median_minutes_to_first_touch"]
    assert median is None or isinstance(median, float)
    return median


def test_the_median_first_touch_of_an_even_count_is_the_mean_of_the_two_middle_ones(
    session: Session,
) -> None:
    # Before: the upper middle value (10 minutes here), not the median the report names.
    assert _median(session) is None
    _hand_offs(session, [30, 2, None, 10, 4])  # four touched (one still waiting: not counted)
    assert _median(session) == 7.0
    _hand_offs(session, [9])
    assert _median(session) == 9.0  # five: the middle one
