"""A rep's load as routing sees it (hand-offs today in the rep's own zone, the last one) is
read from an index, so a hand-off costs the same after a year of hand-offs as on day one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from leadflow.repositories import leads
from leadflow.repositories import reps as rep_repo
from leadflow.services import reps
from tests.repositories.statements import statements_run

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # 10:00 in New York, 16:00 in Berlin


def _rep(session: Session, email: str, zone: str) -> int:
    fields = {"email": email, "name": email[:3], "team": "inbound", "timezone": zone}
    return reps.add_rep(session, fields, now=NOW - timedelta(days=400)).id


def _hand_off(session: Session, rep_id: int | None, at: datetime, n: int) -> None:
    lead = leads.create(session, email=f"lead{n}@example.com")
    rep_repo.add_assignment(session, lead_id=lead.id, rep_id=rep_id, team="inbound",
                            stage="sql", reason="test", assigned_at=at)  # fmt: skip


def test_load_counts_today_in_each_reps_zone_and_the_last_hand_off(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        york, berlin = (
            _rep(session, "ny@x.io", "America/New_York"),
            _rep(session, "be@x.io", "Europe/Berlin"),
        )
        idle = _rep(session, "idle@x.io", "UTC")
        old = [(rep, NOW - timedelta(days=d)) for d in range(3, 300) for rep in (york, berlin)]
        today = [
            (york, NOW - timedelta(hours=11)),  # 23:00 yesterday in New York (04:00 UTC today)
            (york, NOW - timedelta(hours=4)),  # 06:00 in New York: today
            (york, NOW - timedelta(minutes=5)),
            (berlin, NOW - timedelta(hours=9)),  # 07:00 in Berlin: today
            (berlin, NOW - timedelta(hours=20)),  # 20:00 yesterday in Berlin
            (None, NOW - timedelta(minutes=1)),  # to a team: nobody's load
        ]
        for n, (rep, at) in enumerate(old + today):
            _hand_off(session, rep, at, n)
    with sessions() as session, statements_run(session) as seen:
        found = {state.id: state for state in reps.states(session, NOW)}
    assert found[york].assigned_today == 2
    assert found[york].last_assigned_at == NOW - timedelta(minutes=5)
    assert found[berlin].assigned_today == 1
    assert found[berlin].last_assigned_at == NOW - timedelta(hours=9)
    assert found[idle].assigned_today == 0 and found[idle].last_assigned_at is None
    if sessions.kw["bind"].dialect.name == "sqlite":  # PostgreSQL scans a table this small
        reads = [(sql, params) for sql, params in seen if "FROM assignments" in sql]
        assert reads
        with sessions() as session:
            for sql, params in reads:
                plan = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
                steps = " | ".join(str(row[-1]) for row in plan)
                # Before: SCAN assignments, every hand-off ever made, on each hand-off.
                assert "SCAN assignments" not in steps, steps


def test_today_in_havana_is_the_local_day_when_the_clocks_repeat_or_skip_midnight(
    sessions: sessionmaker[Session],
) -> None:
    # Havana puts its clocks back at 01:00 to 00:00 (2 November 2025: midnight is shown twice,
    # at 04:00 and at 05:00 UTC) and forward at 00:00 to 01:00 (8 March 2026: no midnight,
    # the day starts at 05:00 UTC). Before: during the repeated hour the day was taken to
    # start at the second midnight, so the hand-offs of the first hour of the day were not
    # counted and a rep at capacity was given more.
    back, forward = datetime(2025, 11, 2, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
    with sessions() as session, session.begin():
        autumn = _rep(session, "autumn@x.io", "America/Havana")
        spring = _rep(session, "spring@x.io", "America/Havana")
        hand_offs = [
            (autumn, back + timedelta(hours=3, minutes=50)),  # 23:50 on 1 Nov (UTC-4): before
            (autumn, back + timedelta(hours=4, minutes=10)),  # 00:10 the first time (UTC-4)
            (autumn, back + timedelta(hours=5, minutes=10)),  # 00:10 the second time (UTC-5)
            (spring, forward + timedelta(hours=4, minutes=50)),  # 23:50 on 7 March (UTC-5)
            (spring, forward + timedelta(hours=5, minutes=10)),  # 01:10 on 8 March (UTC-4)
        ]
        for n, (rep, at) in enumerate(hand_offs):
            _hand_off(session, rep, at, n)
    seen = {}
    with sessions() as session:
        for label, rep, now in [
            ("in the second 00:xx", autumn, back + timedelta(hours=5, minutes=20)),
            ("after the repeated hour", autumn, back + timedelta(hours=9)),
            ("after the skipped midnight", spring, forward + timedelta(hours=5, minutes=20)),
        ]:
            seen[label] = {s.id: s for s in reps.states(session, now)}[rep].assigned_today
    assert seen == {
        "in the second 00:xx": 2,
        "after the repeated hour": 2,
        "after the skipped midnight": 1,
    }


def test_a_night_shifts_load_is_counted_from_the_morning_its_shift_ended(
    sessions: sessionmaker[Session],
) -> None:
    # Before: every rep's day began at midnight, so a night desk (22:00-06:00) had its count
    # set back to 0 halfway through a shift and was given twice its capacity a night.
    tuesday = datetime(2026, 6, 2, tzinfo=UTC)
    with sessions() as session, session.begin():
        fields = {"email": "night@x.io", "name": "Nox", "team": "inbound", "timezone": "UTC",
                  "working_hours": "mon-fri 22:00-06:00"}  # fmt: skip
        night = reps.add_rep(session, fields, now=NOW - timedelta(days=400)).id
        for n, hours in enumerate((-24 + 5, -2, -1, 1)):  # Monday 05:00 (Sunday's shift), ...
            _hand_off(session, night, tuesday + timedelta(hours=hours), n)
    with sessions() as session:

        def load(at: datetime) -> int:
            [state] = [s for s in reps.states(session, at) if s.id == night]
            return state.assigned_today

        assert load(tuesday + timedelta(hours=2)) == 3  # Monday night's three, not the one
        assert load(tuesday + timedelta(hours=5, minutes=59)) == 3
        assert load(tuesday + timedelta(hours=6)) == 0  # the next working day
