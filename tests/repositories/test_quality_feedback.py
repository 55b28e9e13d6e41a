"""The lead-quality report's reads, through the partial indexes of migration 0036 (people's
exits by lead, closed leads by outcome and reason): each equals the count from scratch over
the ORM's rows, for every cohort, with moves the report must leave out (the system's, a lost
deal's, into other stages), on both engines; on SQLite each reads its index alone. People's
exits from an opportunity are read apart (`opportunity_exits`): all but the close of a lost
deal, the move into nurture made when it closed (`closed_at`)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models import Lead, StageChange
from leadflow.repositories import leads, reports
from tests.repositories.conftest import NOW
from tests.repositories.statements import statements_run

SOURCES = ("google", "linkedin", None)
CAMPAIGNS = ("spring", None)
# (from, to, actor): what each lead's last move may be; the report reads only a person's
# move into nurture or disqualified that did not come from an opportunity (a lost deal).
MOVES = [("sql", "nurture", "ana"), ("mql", "disqualified", "ben"), (None, "nurture", "ana"),
         ("opportunity", "nurture", "ana"), ("sql", "nurture", "system"),
         ("mql", "sql", "ana"), ("sql", "disqualified", "system")]  # fmt: skip
REASONS = ("no budget", "student", "bad timing")
OUTCOMES = (None, "won", "lost", "lost")
LOST_REASONS = ("no budget", None, "competitor")
COHORTS = [Cohort(), Cohort(source="google"), Cohort(campaign="spring"),
           Cohort(since=NOW - timedelta(days=20), until=NOW - timedelta(days=5))]  # fmt: skip


def _build(session: Session) -> None:
    for k in range(42):
        lead = leads.create(
            session, email=f"l{k}@x.example", source=SOURCES[k % 3], campaign=CAMPAIGNS[k % 2],
            created_at=NOW - timedelta(days=k), outcome=OUTCOMES[k % 4],
            outcome_reason=LOST_REASONS[k % 3] if OUTCOMES[k % 4] else None,
        )  # fmt: skip
        for j in range(k % 3 + 1):  # one to three moves a lead, some of them exits
            frm, to, actor = MOVES[(k + j) % len(MOVES)]
            session.add(StageChange(
                lead_id=lead.id, from_stage=frm, to_stage=to, actor=actor,
                reason=REASONS[(k + j) % 3], at=NOW - timedelta(days=k, hours=-j),
            ))  # fmt: skip
    session.flush()


def _in(lead: Lead, cohort: Cohort) -> bool:
    created = lead.created_at
    return (
        (cohort.since is None or created >= cohort.since)
        and (cohort.until is None or created < cohort.until)
        and cohort.source in (None, lead.source)
        and cohort.campaign in (None, lead.campaign)
    )


def _exits_from_scratch(session: Session, cohort: Cohort) -> Counter[tuple[Any, ...]]:
    found: Counter[tuple[Any, ...]] = Counter()
    for move, lead in session.execute(select(StageChange, Lead).join(Lead)):
        people = move.actor != "system" and move.from_stage != "opportunity"
        if move.to_stage in ("nurture", "disqualified") and people and _in(lead, cohort):
            found[(move.to_stage, move.reason, lead.source, lead.campaign)] += 1
    return found


def _plan(session: Session, statement: str, parameters: Any) -> str:
    connection = session.connection().connection.dbapi_connection
    assert connection is not None
    rows = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    return " ".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("cohort", COHORTS)
def test_exit_reasons_equal_the_count_from_scratch(session: Session, cohort: Cohort) -> None:
    _build(session)
    found = reports.exit_reasons(session, cohort)
    assert Counter({row[:4]: row[4] for row in found}) == _exits_from_scratch(session, cohort)
    assert len({row[:4] for row in found}) == len(found)
    assert all(type(row[4]) is int for row in found)


@pytest.mark.parametrize("cohort", COHORTS)
def test_lost_reasons_equal_the_count_from_scratch(session: Session, cohort: Cohort) -> None:
    _build(session)
    expected = Counter(
        lead.outcome_reason for lead in session.scalars(select(Lead))
        if lead.outcome == "lost" and _in(lead, cohort)
    )  # fmt: skip
    assert dict(reports.lost_reasons(session, cohort)) == expected


def test_sqlite_reads_the_exits_and_reasons_from_their_indexes(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    _build(session)
    session.execute(text("ANALYZE"))  # with statistics too: the plan must not change
    with statements_run(session) as seen:
        reports.exit_reasons(session, Cohort())
        reports.lost_reasons(session, Cohort())
    exits, lost = (_plan(session, statement, parameters) for statement, parameters in seen)
    assert "COVERING INDEX ix_stage_changes_exits" in exits
    assert "COVERING INDEX ix_leads_exit_groups" in exits
    assert "COVERING INDEX ix_leads_outcome_reasons" in lost
    assert "TEMP B-TREE" not in lost  # read already grouped


def _opportunities(session: Session) -> None:
    """Leads whose deals went back to nurture: closed lost (the move at `closed_at`),
    recycled with the deal open, recycled and later lost, disqualified, moved by the system."""
    cases = [  # (outcome, closed after how many hours, [(to, actor, reason, hours)])
        ("lost", 1, [("nurture", "ana", "competitor", 1)]),
        (None, None, [("nurture", "ana", "revisit in spring", 1)]),
        ("lost", 5, [("nurture", "ben", "revisit in spring", 1),
                     ("nurture", "ana", "no budget", 5)]),
        (None, None, [("disqualified", "ben", "student", 2)]),
        (None, None, [("nurture", "system", "decayed", 3)]),
        ("lost", 2, [("nurture", "ana", "no budget", 2)]),
    ]  # fmt: skip
    for k, (outcome, closed, moves) in enumerate(cases * 3):
        created = NOW - timedelta(days=3 * k)
        lead = leads.create(
            session, email=f"o{k}@x.example", source=SOURCES[k % 3], campaign=CAMPAIGNS[k % 2],
            created_at=created, outcome=outcome, outcome_reason=moves[-1][2] if outcome else None,
            closed_at=created + timedelta(hours=closed) if closed else None,
        )  # fmt: skip
        for to, actor, reason, hours in moves:
            session.add(StageChange(
                lead_id=lead.id, from_stage="opportunity", to_stage=to, actor=actor,
                reason=reason, at=created + timedelta(hours=hours),
            ))  # fmt: skip
    session.flush()


def _opportunity_exits_from_scratch(session: Session, cohort: Cohort) -> Counter[tuple[Any, ...]]:
    found: Counter[tuple[Any, ...]] = Counter()
    for move, lead in session.execute(select(StageChange, Lead).join(Lead)):
        lost = lead.outcome == "lost" and lead.closed_at == move.at
        people = move.actor != "system" and move.from_stage == "opportunity"
        if (
            move.to_stage in ("nurture", "disqualified")
            and people
            and not lost
            and _in(lead, cohort)
        ):
            found[(move.to_stage, move.reason, lead.source, lead.campaign)] += 1
    return found


@pytest.mark.parametrize("cohort", COHORTS)
def test_opportunity_exits_are_all_but_a_lost_deals_close(session: Session, cohort: Cohort) -> None:
    _build(session)
    _opportunities(session)
    found = reports.opportunity_exits(session, cohort)
    expected = _opportunity_exits_from_scratch(session, cohort)
    assert Counter({row[:4]: row[4] for row in found}) == expected
    assert len({row[:4] for row in found}) == len(found)
    assert all(type(row[4]) is int for row in found)
    if cohort.is_everyone:  # the recycles of open and later-lost deals, not the closes
        reasons = Counter[str]()
        for (_, reason, _, _), n in expected.items():
            reasons[reason] += n
        assert (reasons["revisit in spring"], reasons["competitor"]) == (6, 0)


def test_sqlite_reads_the_opportunity_exits_from_the_exits_index(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    _build(session)
    _opportunities(session)
    session.execute(text("ANALYZE"))
    with statements_run(session) as seen:
        reports.opportunity_exits(session, Cohort())
    [(statement, parameters)] = seen
    plan = _plan(session, statement, parameters)
    assert "USING INDEX ix_stage_changes_exits" in plan
    assert "SEARCH leads" in plan and "SCAN leads" not in plan  # each exit's lead by id
