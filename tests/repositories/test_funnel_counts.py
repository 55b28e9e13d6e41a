"""The funnel reports' grouped counts equal a count from scratch over the leads, whichever
index SQLite reads them from (and a range of creation times in whole months, or not), and
each engine can read the groups in index order rather than sorting or hashing the leads."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.account import Account
from leadflow.models.lead import Lead
from leadflow.repositories import funnel_counts, reports

PLUS_ONE = timezone(timedelta(hours=1))
COHORTS = [
    Cohort(),
    Cohort(source="ads"),
    Cohort(persona="cfo"),
    Cohort(tier="top"),
    Cohort(since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 3, 1, tzinfo=UTC)),
    Cohort(since=datetime(2025, 1, 15, 6, tzinfo=UTC)),  # not a month's start
    Cohort(until=datetime(2025, 2, 1)),  # naive: UTC
    Cohort(since=datetime(2025, 2, 1, 1, tzinfo=PLUS_ONE)),  # 1 February 00:00 UTC
    Cohort(since=datetime(2025, 2, 1, tzinfo=PLUS_ONE)),  # 31 January 23:00 UTC
    Cohort(since=datetime(2025, 2, 1, tzinfo=UTC), source="ads"),
    # Ragged at both ends around whole months (naive: UTC), as the plan's last 180 days are.
    Cohort(
        since=datetime(2024, 12, 31, 23, 59, 59, 999999), until=datetime(2025, 2, 28, 23, 59, 59)
    ),
    Cohort(
        since=datetime(2025, 1, 15, 7, tzinfo=PLUS_ONE),
        until=datetime(2025, 3, 1, 0, 30, tzinfo=PLUS_ONE),
    ),
]
BYS = [[], ["period"], ["source"], ["persona"], ["source", "campaign"], ["medium", "persona"],
       ["grade"], ["score_band"], ["tier"], ["period", "source", "score_band"]]  # fmt: skip
# Either side of month boundaries, and inside months.
MOMENTS = [
    datetime(2024, 12, 31, 23, 59, 59, 999999), datetime(2025, 1, 1), datetime(2025, 1, 15, 6),
    datetime(2025, 1, 15, 6, 0, 0, 1), datetime(2025, 1, 31, 23), datetime(2025, 2, 1),
    datetime(2025, 2, 10, 12, 30), datetime(2025, 2, 28, 23, 59, 59), datetime(2025, 3, 1),
]  # fmt: skip


def _build(session: Session) -> None:
    rng = random.Random(16)
    top = Account(domain="top.example", name="Top", tier="top")
    small = Account(domain="s.example", name="Small", tier="s")
    session.add_all([top, small])
    session.flush()
    for k in range(160):
        outcome = rng.choice([None, None, "won", "lost"])
        session.add(Lead(
            email=f"l{k}@x.example", created_at=rng.choice(MOMENTS).replace(tzinfo=UTC),
            stage=rng.choice(list(Stage)), reached_rank=rng.randint(-1, 5), outcome=outcome,
            outcome_amount=rng.choice([None, 100.25, 2500.5]) if outcome else None,
            source=rng.choice([None, "ads", "seo"]), medium=rng.choice([None, "cpc"]),
            campaign=rng.choice([None, "spring", "fall"]), persona=rng.choice([None, "cfo", "cto"]),
            grade=rng.choice([None, "A", "B"]), total=rng.choice([0.0, 19.99, 20.0, 75.5]),
            account_id=rng.choice([None, top.id, small.id]),
        ))  # fmt: skip
    session.flush()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # naive: UTC, as stored


def _in(cohort: Cohort, lead: Lead, tier: str | None) -> bool:
    created = lead.created_at
    return (
        (cohort.since is None or created >= _aware(cohort.since))
        and (cohort.until is None or created < _aware(cohort.until))
        and all(
            getattr(cohort, name) is None or getattr(cohort, name) == getattr(lead, name)
            for name in ("source", "medium", "campaign", "persona")
        )
        and (cohort.tier is None or cohort.tier == tier)
    )


def _key(lead: Lead, tier: str | None, by: str) -> Any:
    if by == "period":
        return lead.created_at.strftime("%Y-%m")
    if by == "score_band":
        return float(int(lead.total // 20) * 20)
    if by == "tier":
        return tier
    return getattr(lead, by)


def _from_scratch(session: Session, cohort: Cohort, bys: list[str]) -> dict[Any, list[Any]]:
    tiers = dict(session.execute(select(Account.id, Account.tier)).all())
    found: dict[Any, list[Any]] = defaultdict(lambda: [0, 0.0])
    for lead in session.scalars(select(Lead)):
        tier = tiers.get(lead.account_id) if lead.account_id else None
        if not _in(cohort, lead, tier):
            continue
        rank = max(funnel_rank(Stage(lead.stage)), lead.reached_rank)
        into = found[(tuple(_key(lead, tier, by) for by in bys), rank)]
        into[0] += 1
        into[1] += (lead.outcome_amount or 0.0) if lead.outcome == "won" else 0.0
    return dict(found)


def _grouped(session: Session, cohort: Cohort, bys: list[str]) -> dict[Any, list[Any]]:
    found: dict[Any, list[Any]] = defaultdict(lambda: [0, 0.0])
    for groups, rank, count, revenue in reports.furthest_by_many(session, cohort, bys):
        key = tuple(float(g) if by == "score_band" and g is not None else g
                    for g, by in zip(groups, bys, strict=True))  # fmt: skip
        found[(key, rank)][0] += count
        found[(key, rank)][1] += revenue
    return dict(found)


@pytest.mark.parametrize("cohort", COHORTS, ids=range(len(COHORTS)))
def test_grouped_counts_equal_a_count_from_scratch(session: Session, cohort: Cohort) -> None:
    _build(session)
    for bys in BYS:
        expected = _from_scratch(session, cohort, bys)
        found = _grouped(session, cohort, bys)
        assert {k: (n, round(v, 6)) for k, (n, v) in found.items()} == {
            k: (n, round(v, 6)) for k, (n, v) in expected.items()
        }, bys


def _plan(session: Session, cohort: Cohort, bys: list[str]) -> str:
    dimensions = [reports._dimension(session, by) for by in bys]
    query, _, _ = funnel_counts.grouped_query(session, cohort, dimensions, bys)
    compiled = query.compile(dialect=session.get_bind().dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup or [])
    connection = session.connection()
    plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", params).all()
    return " | ".join(str(row[-1]) for row in plan)


@pytest.mark.parametrize("statistics", [False, True])
def test_sqlite_reads_the_groups_in_index_order(session: Session, statistics: bool) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's plans (PostgreSQL's months index: the test below)")
    _build(session)
    if statistics:
        session.execute(text("ANALYZE"))
    months = Cohort(since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 3, 1, tzinfo=UTC))
    for cohort, bys, index in [
        (Cohort(), ["period"], "ix_leads_funnel_months"),
        (Cohort(), [], "ix_leads_funnel_months"),
        (months, [], "ix_leads_funnel_months"),
        (Cohort(), ["source"], "ix_leads_funnel_people"),
        (Cohort(), ["campaign", "persona"], "ix_leads_funnel_people"),
    ]:
        plan = _plan(session, cohort, bys)
        assert index in plan and "TEMP B-TREE" not in plan, (bys, plan)
    ragged = Cohort(since=datetime(2024, 12, 3, 6), until=datetime(2025, 2, 10, 12, 30))
    whole, *ends = funnel_counts._parts(session, ragged, [])
    assert (whole.since, whole.until) == (datetime(2025, 1, 1), datetime(2025, 2, 1))
    assert [(end.since, end.until) for end in ends] == [
        (ragged.since, datetime(2025, 1, 1)), (datetime(2025, 2, 1), ragged.until)
    ]  # fmt: skip
    plan = _plan(session, whole, [])  # the whole months: in index order, no sort
    assert "ix_leads_funnel_months" in plan and "TEMP B-TREE" not in plan, plan
    odd = _plan(session, Cohort(since=datetime(2025, 1, 15, tzinfo=UTC)), ["source"])
    assert "COVERING INDEX ix_leads_reports" in odd  # a range of times: the covering index


def test_each_engine_has_its_own_months_index(session: Session) -> None:
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'leads'"
    names = set(session.scalars(text(query)))
    assert "ix_leads_funnel_people" in names
    assert ("ix_leads_funnel_months" in names) is sqlite
    assert ("ix_leads_funnel_months_pg" in names) is not sqlite


def test_postgresql_can_read_the_months_groups_in_index_order(session: Session) -> None:
    """The month PostgreSQL groups by is its months index's expression, word for word: with
    hashing, sorting and reading the table priced out, it reads the groups from that index."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite's months index is read through INDEXED BY (the test above)")
    _build(session)
    for setting in ("enable_hashagg", "enable_sort", "enable_seqscan", "enable_bitmapscan"):
        session.execute(text(f"SET LOCAL {setting} = off"))
    dimensions = [reports._dimension(session, "period")]
    query, _, _ = funnel_counts.grouped_query(session, Cohort(), dimensions, ["period"])
    compiled = query.compile(dialect=session.get_bind().dialect)
    explained = session.connection().exec_driver_sql(f"EXPLAIN {compiled.string}", compiled.params)
    plan = " | ".join(row[0] for row in explained)
    assert "Index Only Scan using ix_leads_funnel_months_pg" in plan, plan
    assert "GroupAggregate" in plan and "Sort" not in plan, plan
