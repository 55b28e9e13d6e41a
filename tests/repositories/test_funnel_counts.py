"""The funnel reports' grouped counts equal a count from scratch over the leads, whether they
are summed from the tallies (whole months, the dimensions a tally holds) or counted from the
leads (the ragged ends of a range, grade, score band, tier), and after any write, appended
or folded."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.account import Account
from leadflow.models.lead import Lead
from leadflow.models.lead_tally import TALLY_GROUPS, LeadTally
from leadflow.repositories import lead_tallies, reports

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


def _statements(session: Session) -> list[str]:
    """Every statement the session runs from now on (a list it keeps appending to)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(session.get_bind(), "before_cursor_execute", note)
    return seen


def test_whole_months_are_summed_from_the_tallies_and_only_ragged_ends_from_the_leads(
    session: Session,
) -> None:
    _build(session)
    seen = _statements(session)
    for cohort, bys in [(Cohort(), ["period"]), (Cohort(), []), (Cohort(), ["source"]),
                        (Cohort(source="ads"), ["campaign", "persona"]),
                        (COHORTS[4], ["medium"])]:  # fmt: skip
        seen.clear()
        reports.furthest_by_many(session, cohort, bys)
        assert any("FROM lead_tallies" in s for s in seen), (cohort, bys)
        assert not any("FROM leads" in s for s in seen), (cohort, bys, seen)
    ragged = Cohort(since=datetime(2024, 12, 3, 6), until=datetime(2025, 2, 10, 12, 30))
    whole, ends = lead_tallies.split_by_months(ragged)
    assert whole is not None and (whole.since, whole.until) == (
        datetime(2025, 1, 1), datetime(2025, 2, 1)
    )  # fmt: skip
    assert [(end.since, end.until) for end in ends] == [
        (ragged.since, datetime(2025, 1, 1)), (datetime(2025, 2, 1), ragged.until)
    ]  # fmt: skip
    for cohort, bys in [(ragged, []), (Cohort(tier="top"), []), (Cohort(), ["grade"])]:
        seen.clear()
        reports.furthest_by_many(session, cohort, bys)
        assert any("FROM leads" in s for s in seen), (cohort, bys)  # not in a tally


def _move_everything(session: Session, rng: random.Random) -> None:
    """Every kind of write a tally must follow: creation, each counted column changed
    (alone and together), an UPDATE that changes nothing counted, and deletion, by the ORM
    and by plain SQL (a script's UPDATE)."""
    leads = list(session.scalars(select(Lead).order_by(Lead.id)))
    for lead in rng.sample(leads, 40):
        lead.stage = rng.choice(list(Stage))
        lead.reached_rank = rng.randint(-1, 5)
    for lead in rng.sample(leads, 20):
        lead.outcome, lead.outcome_amount = "won", rng.choice([10.5, 99.99, None])
    for lead in rng.sample(leads, 20):
        lead.source, lead.persona = rng.choice([None, "ads", "new"]), rng.choice([None, "ceo"])
        lead.created_at = rng.choice(MOMENTS).replace(tzinfo=UTC)
    session.flush()
    values = {"source": ["ads", "new", None], "medium": ["cpc", None], "campaign": ["fall", None],
              "persona": ["ceo", None], "stage": [s.value for s in Stage],
              "reached_rank": [-1, 2, 5], "outcome": ["won", "lost", None],
              "outcome_amount": [1.25, None], "title": ["CFO", None], "email": [None],
              "created_at": [m.replace(tzinfo=UTC) for m in MOMENTS]}  # fmt: skip
    for name, choices in values.items():  # each alone, in a statement of its own
        for lead in rng.sample(leads, 8):
            setattr(lead, name, rng.choice(choices))
            session.flush()
    for lead in rng.sample(leads, 10):
        lead.total = 99.0  # not counted: no tally row
    session.flush()
    session.execute(text("UPDATE leads SET campaign = 'winter' WHERE id % 7 = 0"))
    session.execute(text("UPDATE leads SET medium = NULL, outcome = NULL WHERE id % 11 = 0"))
    for lead in rng.sample(leads, 15):
        session.delete(lead)
    session.flush()
    session.expire_all()


@pytest.mark.parametrize("fold_first", [False, True])
def test_tallies_follow_every_write_and_a_fold_changes_no_figure(
    session: Session, fold_first: bool
) -> None:
    _build(session)
    if fold_first:
        lead_tallies.fold(session)
    _move_everything(session, random.Random(12))
    cohorts = [COHORTS[0], COHORTS[1], COHORTS[2], COHORTS[4], COHORTS[6], COHORTS[10]]
    for step in ("appended", "folded", "folded again"):
        for cohort in cohorts:
            for bys in BYS:
                expected = _from_scratch(session, cohort, bys)
                found = _grouped(session, cohort, bys)
                assert {k: (n, round(v, 6)) for k, (n, v) in found.items()} == {
                    k: (n, round(v, 6)) for k, (n, v) in expected.items()
                }, (step, cohort, bys)
        lead_tallies.fold(session)
    rows = session.scalar(select(func.count()).select_from(LeadTally))
    groups = session.execute(
        select(func.count()).select_from(
            select(LeadTally.month, *(getattr(LeadTally, g) for g in TALLY_GROUPS))
            .distinct()
            .subquery()
        )
    ).scalar()
    assert rows == groups  # one row per group once folded
    assert not session.scalar(select(func.count()).where(LeadTally.leads <= 0))


def test_missing_contact_fields_from_the_tallies_equal_a_count_of_the_leads(
    session: Session,
) -> None:
    _build(session)
    for lead in session.scalars(select(Lead).where(Lead.id % 3 == 0)):
        lead.title, lead.country = None, "FR"
    session.flush()
    _move_everything(session, random.Random(5))
    fields = ["email", "title", "country", "phone", "source", "medium", "campaign"]
    for cohort in [Cohort(), COHORTS[1], COHORTS[4], COHORTS[10], COHORTS[11]]:
        leads = [lead for lead in session.scalars(select(Lead)) if _in(cohort, lead, None)]
        whole, ends = lead_tallies.split_by_months(cohort)
        size, lacking = lead_tallies.lacking(session, whole, fields) if whole else (0, {})
        for end in ends:  # the ragged ends: not in a tally, counted here from the leads
            in_end = [lead for lead in leads if _in(end, lead, None)]
            size += len(in_end)
            for name in fields:
                lacking[name] = lacking.get(name, 0) + sum(
                    getattr(lead, name) is None for lead in in_end
                )
        assert size == len(leads), cohort
        assert lacking == {
            name: sum(getattr(lead, name) is None for lead in leads) for name in fields
        }, cohort


def test_leads_created_in_a_range_are_counted_as_from_scratch(session: Session) -> None:
    """The plan's "leads so far": whole months from the tallies, ragged ends from the leads."""
    _build(session)
    _move_everything(session, random.Random(3))
    created = [lead.created_at for lead in session.scalars(select(Lead))]
    for start, end in [
        (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)),
        (datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(2025, 2, 10, tzinfo=UTC)),
        (datetime(2025, 1, 15, 6, tzinfo=UTC), datetime(2025, 1, 15, 6, 0, 0, 1, tzinfo=UTC)),
        (datetime(2025, 2, 1, tzinfo=PLUS_ONE), datetime(2025, 3, 1, 0, 30, tzinfo=PLUS_ONE)),
    ]:
        expected = sum(start <= moment < end for moment in created)
        assert reports.created_between(session, start, end) == expected, (start, end)
