"""A rep's out-of-office time given without a zone is read on the rep's own wall clock, the
way `core.local_time.instant` reads every local time (clock changes included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from leadflow.services import reps

NOW = datetime(2025, 10, 1, tzinfo=UTC)
_NUMBERS = count()


def _away_until(session: Session, zone: str, until: datetime) -> datetime | None:
    fields = {"email": f"away{next(_NUMBERS)}@x.io", "name": "Away", "team": "inbound",
              "timezone": zone}  # fmt: skip
    rep = reps.add_rep(session, fields, now=NOW)
    reps.update_rep(session, rep.id, {"out_of_office_until": until})
    session.flush()
    session.expire(rep)
    return rep.out_of_office_until


def test_a_day_or_time_without_a_zone_is_when_the_reps_clock_reaches_it(session: Session) -> None:
    # America/Havana: 2 November 2025, 00:00 shown at 04:00 UTC and again at 05:00 UTC; on
    # 8 March 2026 the clocks go from 00:00 to 01:00 (05:00 UTC): 00:00 to 00:59 never show.
    assert _away_until(session, "America/Havana", datetime(2025, 11, 2)) == datetime(
        2025, 11, 2, 4, 0, tzinfo=UTC
    )  # the first midnight: back at the start of the day
    assert _away_until(session, "America/Havana", datetime(2026, 3, 8)) == datetime(
        2026, 3, 8, 5, 0, tzinfo=UTC
    )
    # Before: a time the clocks skip was read with the offset before the jump, as far past the
    # jump as it was into the gap (05:30 UTC, 01:30 shown): the rep taken back late.
    assert _away_until(session, "America/Havana", datetime(2026, 3, 8, 0, 30)) == datetime(
        2026, 3, 8, 5, 0, tzinfo=UTC
    )
    assert _away_until(session, "Europe/Berlin", datetime(2026, 3, 29, 2, 30)) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )  # 02:30 is skipped: back at 03:00 (UTC+2)
    assert _away_until(session, "Europe/Berlin", datetime(2026, 10, 25, 2, 30)) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )  # shown twice: the first
    given = datetime(2026, 3, 8, 0, 30, tzinfo=UTC)  # with a zone: as given
    assert _away_until(session, "America/Havana", given) == given
    assert _away_until(session, "America/Havana", given + timedelta(days=1)) == given + timedelta(
        days=1
    )
