"""Every report on a small hand-built history whose figures were worked out by hand.

The history (all times UTC, 2026; `->` is a stage change):

    lead  source/campaign   created  moves                                        outcome
    L1    google/spring     09-01    lead, mql 09-03, sql 09-05, opp 09-10,        won 1000 (09-20)
                                     customer 09-20
    L2    google/spring     09-02    lead, sql 09-04 (demo request), nurture 09-06
                                     (ana: "no budget")
    L3    linkedin/fall     09-03    lead, mql 09-05, sql 09-08, opp 09-12,        won 3000 (09-30)
                                     customer 09-30
    L4    linkedin/fall     09-04    lead, mql 09-06, disqualified 09-07 (ben: "student")
    L5    linkedin/-        09-05    lead, mql 09-06, sql 09-07, opp 09-09,        lost (09-19)
                                     nurture 09-19 (ana: "chose a competitor")
    L6    google/-          10-01    lead
    L7    google/spring     09-06    lead, sql 01:00 (no owner)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.lifecycle import Action, Transition
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.report_math import Cohort
from leadflow.core.stages import Stage
from leadflow.models import Account, Assignment, Lead, Rep, StageChange
from leadflow.models.db import make_engine, make_session_factory
from leadflow.repositories import events as event_repo
from leadflow.services import lifecycle, reports
from leadflow.services.reports import Options
from tests.conftest import Migrate

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"


def day(month: int, dom: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, dom, hour, minute, tzinfo=UTC)


LEADS: list[dict[str, Any]] = [
    {"key": "L1", "email": "a@x.io", "source": "google", "campaign": "spring", "total": 90,
     "first_name": "Katherine", "last_name": "Smith", "title": "VP Operations", "account": True,
     "created": day(9, 1), "stage": "customer",
     "moves": [("lead", day(9, 1)), ("mql", day(9, 3)), ("sql", day(9, 5)),
               ("opportunity", day(9, 10)), ("customer", day(9, 20))],
     "outcome": ("won", 1000.0, day(9, 20), "signed")},
    {"key": "L2", "email": "b@x.io", "source": "google", "campaign": "spring", "total": 70,
     "first_name": "Bob", "last_name": "Jones", "created": day(9, 2), "stage": "nurture",
     "moves": [("lead", day(9, 2)), ("sql", day(9, 4)),
               ("nurture", day(9, 6), "ana", "no budget")]},
    {"key": "L3", "email": "c@x.io", "source": "linkedin", "campaign": "fall", "total": 80,
     "first_name": "Kathy", "last_name": "Smith", "title": "COO", "created": day(9, 3),
     "stage": "customer",
     "moves": [("lead", day(9, 3)), ("mql", day(9, 5)), ("sql", day(9, 8)),
               ("opportunity", day(9, 12)), ("customer", day(9, 30))],
     "outcome": ("won", 3000.0, day(9, 30), "signed")},
    {"key": "L4", "email": "d@x.io", "source": "linkedin", "campaign": "fall", "total": 20,
     "first_name": "Rob", "last_name": "Jones", "created": day(9, 4), "stage": "disqualified",
     "moves": [("lead", day(9, 4)), ("mql", day(9, 6)),
               ("disqualified", day(9, 7), "ben", "student")]},
    {"key": "L5", "email": "e@x.io", "source": "linkedin", "campaign": None, "total": 60,
     "created": day(9, 5), "stage": "nurture",
     "moves": [("lead", day(9, 5)), ("mql", day(9, 6)), ("sql", day(9, 7)),
               ("opportunity", day(9, 9)), ("nurture", day(9, 19), "ana", "chose a competitor")],
     "outcome": ("lost", None, day(9, 19), "chose a competitor")},
    {"key": "L6", "email": "f at x.io", "source": "google", "campaign": None, "total": 10,
     "created": day(10, 1), "stage": "lead", "moves": [("lead", day(10, 1))]},
    {"key": "L7", "email": "g@x.io", "source": "google", "campaign": "spring", "total": 75,
     "first_name": "Kate", "last_name": "Smith", "account": True, "created": day(9, 6),
     "stage": "sql", "moves": [("lead", day(9, 6)), ("sql", day(9, 6, 1))]},
]  # fmt: skip

# (lead, type, name, when, properties, context, source)
EVENTS: list[tuple[str, str, str | None, datetime, dict[str, Any], dict[str, Any], str]] = [
    ("L1", "track", "Email Clicked", day(9, 10), {"campaign": "digest"}, {}, "api"),
    ("L1", "page", None, day(9, 15), {"path": "/pricing"},
     {"campaign": {"name": "retarget"}}, "api"),
    ("L1", "track", "Late Event", day(9, 25), {"campaign": "late"}, {}, "api"),  # after the win
    ("L3", "page", None, day(9, 10), {"path": "/pricing"}, {}, "api"),
    ("L3", "track", "Whitepaper Downloaded", day(9, 11), {}, {}, "api"),
    ("L3", "track", "Email Clicked", day(9, 20), {"utm_campaign": "digest"}, {}, "api"),
    ("L5", "page", None, day(9, 8), {"path": "/careers"}, {}, "api"),
    ("L5", "track", "Whitepaper Downloaded", day(9, 8), {}, {}, "api"),
    ("L5", "track", "Sales Touch", day(9, 8, 2),
     {"questions": ["Do you support SSO?"], "objections": ["price"], "stage": "sql"}, {}, "sales"),
    ("L2", "track", "Sales Touch", day(9, 4, 5),
     {"questions": ["do you support SSO?"], "objections": ["Price"], "stage": "sql"}, {}, "sales"),
    ("L4", "track", "Email Bounced", day(9, 5), {}, {}, "api"),
]  # fmt: skip


@pytest.fixture
def playbook() -> Playbook:
    return parse_playbook(B2B.read_text())


@pytest.fixture
def session(database_url: str, migrate: Migrate) -> Iterator[Session]:
    migrate(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as db, db.begin():
        build(db)
        yield db
    engine.dispose()


def build(db: Session) -> None:
    acme = Account(domain="acme.com", name="Acme", tier="top")
    ana = Rep(name="Ana", email="ana@flowline.io", team="enterprise")
    ben = Rep(name="Ben", email="ben@flowline.io", team="enterprise")
    db.add_all([acme, ana, ben])
    db.flush()
    ids: dict[str, int] = {}
    for spec in LEADS:
        lead = Lead(
            email=spec["email"], source=spec["source"], campaign=spec["campaign"],
            total=spec["total"], first_name=spec.get("first_name"),
            last_name=spec.get("last_name"), title=spec.get("title"), stage="lead",
            created_at=spec["created"], account_id=acme.id if spec.get("account") else None,
            reached_rank=-1,
        )  # fmt: skip
        if outcome := spec.get("outcome"):
            lead.outcome, lead.outcome_amount, lead.closed_at, lead.outcome_reason = outcome
        db.add(lead)
        db.flush()
        ids[spec["key"]] = lead.id
        db.add(StageChange(lead_id=lead.id, from_stage=None, to_stage="lead",
                           at=spec["created"], reason="created", actor="system"))  # fmt: skip
        before = Stage.LEAD
        for stage, at, *who in spec["moves"][1:]:  # as the product records every move
            actor, reason = who if who else ("system", f"entered {stage}")
            lifecycle.record(db, lead, Transition(before, Stage(stage), reason, actor), at)
            before = Stage(stage)
        assert lead.stage == spec["stage"]
    for n, (key, kind, name, at, properties, context, source) in enumerate(EVENTS):
        event_repo.insert(db, lead_id=ids[key], type=kind, name=name, occurred_at=at,
                          source=source, properties=properties, context=context,
                          message_id=f"m{n}")  # fmt: skip
    hand_offs = [  # (lead, rep, assigned, due, first touch, status)
        ("L1", ana, day(9, 5), day(9, 5, 0, 5), day(9, 5, 0, 3), "met"),
        ("L2", ana, day(9, 4), day(9, 4, 4), day(9, 4, 5), "breached"),
        ("L3", ben, day(9, 8), day(9, 8, 4), day(9, 8, 1), "met"),
        ("L7", None, day(9, 6, 1), day(9, 6, 5), None, "breached"),
    ]
    for key, rep, assigned, due, touched, status in hand_offs:
        db.add(Assignment(
            lead_id=ids[key], rep_id=rep.id if rep else None,
            team=rep.team if rep else "inbound", stage="sql", reason="test",
            assigned_at=assigned, sla_due_at=due, first_touch_at=touched, status=status,
        ))  # fmt: skip
    db.flush()


def run(db: Session, book: Playbook, name: str, **options: Any) -> dict[str, Any]:
    cohort = options.pop("cohort", Cohort())
    return reports.run(db, book, name, cohort, Options(**options), NOW)


def column(result: dict[str, Any], name: str) -> list[Any]:
    return [row[name] for row in result["rows"]]


def test_funnel_counts_the_furthest_stage_each_lead_reached(
    session: Session, playbook: Playbook
) -> None:
    result = run(session, playbook, "funnel")
    assert column(result, "reached") == [7, 6, 5, 3, 2]  # L2 and L7 skipped MQL but passed it
    assert column(result, "to_next") == [0.8571, 0.8333, 0.6, 0.6667, None]
    assert column(result, "n") == [7, 6, 5, 3, None]
    assert all(column(result, "small_sample")[:4])
    assert result["revenue"] == 4000.0
    september, october = result["by_period"]
    assert september == {"period": "2026-09", "lead": 6, "mql": 6, "sql": 5,
                         "opportunity": 3, "customer": 2}  # fmt: skip
    assert october == {"period": "2026-10", "lead": 1, "mql": 0, "sql": 0,
                       "opportunity": 0, "customer": 0}  # fmt: skip
    only_october = run(session, playbook, "funnel", period="2026-10")
    assert column(only_october, "reached") == [1, 0, 0, 0, 0]
    linkedin = run(session, playbook, "funnel", cohort=Cohort(source="linkedin"))
    assert column(linkedin, "reached") == [3, 3, 2, 2, 1]


def test_conversion_and_revenue_by_source(session: Session, playbook: Playbook) -> None:
    result = run(session, playbook, "conversion", by="source")
    linkedin, google = result["rows"]  # by revenue, highest first
    assert (linkedin["source"], linkedin["lead"], linkedin["mql"], linkedin["sql"]) == (
        "linkedin", 3, 3, 2)  # fmt: skip
    assert (linkedin["customer"], linkedin["revenue"], linkedin["lead_to_customer"]) == (
        1, 3000.0, 0.3333)  # fmt: skip
    assert (google["lead"], google["mql"], google["opportunity"], google["customer"]) == (
        4,
        3,
        1,
        1,
    )
    assert (google["revenue"], google["revenue_per_lead"]) == (1000.0, 250.0)
    by_campaign = {row["campaign"]: row["lead"] for row in run(
        session, playbook, "conversion", by="campaign")["rows"]}  # fmt: skip
    assert by_campaign == {"spring": 3, "fall": 2, None: 2}
    with pytest.raises(Invalid, match="unknown dimension 'colour'"):
        run(session, playbook, "conversion", by="colour")


def test_velocity_days_in_each_stage(session: Session, playbook: Playbook) -> None:
    rows = {row["stage"]: row for row in run(session, playbook, "velocity")["rows"]}
    assert (rows["lead"]["n"], rows["lead"]["mean_days"], rows["lead"]["p50_days"]) == (
        6,
        1.51,
        2.0,
    )
    assert (rows["mql"]["n"], rows["mql"]["mean_days"], rows["mql"]["p50_days"]) == (4, 1.75, 1.5)
    assert (rows["sql"]["n"], rows["sql"]["mean_days"], rows["sql"]["p50_days"]) == (4, 3.25, 3.0)
    assert (rows["opportunity"]["n"], rows["opportunity"]["p50_days"]) == (3, 10.0)
    assert "customer" not in rows  # nobody has left it
    result = run(session, playbook, "velocity")
    assert result["lead_to_customer"] == {"n": 2, "p50_days": 23.0, "p90_days": 26.2}


def test_velocity_of_a_cohort_counts_only_its_leads(session: Session, playbook: Playbook) -> None:
    # linkedin: L3 lead 2, mql 3, sql 4, opp 18 days; L4 lead 2, mql 1 (then disqualified);
    # L5 lead 1, mql 1, sql 2, opp 10 days (then nurture).
    result = run(session, playbook, "velocity", cohort=Cohort(source="linkedin"))
    found = {r["stage"]: (r["n"], r["mean_days"], r["p50_days"]) for r in result["rows"]}
    assert found == {"lead": (3, 1.67, 2.0), "mql": (3, 1.67, 1.0), "sql": (2, 3.0, 3.0),
                     "opportunity": (2, 14.0, 14.0)}  # fmt: skip
    assert result["lead_to_customer"] == {"n": 1, "p50_days": 27.0, "p90_days": 27.0}
    nobody = run(session, playbook, "velocity", cohort=Cohort(source="print"))
    assert (nobody["rows"], nobody["lead_to_customer"]["n"]) == ([], 0)


def test_velocity_an_accepted_sql_is_one_stay_in_sql(session: Session, playbook: Playbook) -> None:
    # A rep accepting an SQL keeps it in sql: the history has the action, but the lead left
    # nothing and entered nothing. L7 entered sql 09-06 01:00, was accepted 09-08 and made an
    # opportunity 09-10: one stay of 3.9583 days, not a stay of 1.96 days and one of 2.
    lead = session.scalars(select(Lead).where(Lead.email == "g@x.io")).one()
    lifecycle.act(session, lead, Action.ACCEPT, actor="ana@flowline.io", reason="", now=day(9, 8))
    assert lead.stage_changed_at == day(9, 6, 1)  # still when it entered sql
    converted = Transition(Stage.SQL, Stage.OPPORTUNITY, "converted", "ana")
    lifecycle.record(session, lead, converted, day(9, 10))
    session.flush()
    # sql before: L1 5, L2 2, L3 4, L5 2 days; now L7's 3.9583 too.
    for cohort in (Cohort(), Cohort(source="google")):
        rows = {r["stage"]: r for r in run(session, playbook, "velocity", cohort=cohort)["rows"]}
        sql = rows["sql"]
        if cohort.is_everyone:
            assert (sql["n"], sql["mean_days"], sql["p50_days"]) == (5, 3.39, 3.96)
        else:  # google: L1 5, L2 2, L7 3.9583
            assert (sql["n"], sql["mean_days"], sql["p50_days"]) == (3, 3.65, 3.96)


def test_speed_to_lead_and_both_slas(session: Session, playbook: Playbook) -> None:
    result = run(session, playbook, "speed", period="2026-09")
    rows = {row["rep"]: row for row in result["rows"]}
    assert (rows["Ana"]["handoffs"], rows["Ana"]["met"], rows["Ana"]["breached"]) == (2, 1, 1)
    assert (rows["Ana"]["compliance"], rows["Ana"]["p50_minutes"]) == (0.5, 151.5)
    assert (rows["Ben"]["compliance"], rows["Ben"]["p50_minutes"]) == (1.0, 60.0)
    assert (rows["(queue)"]["breached"], rows["(queue)"]["compliance"]) == (1, 0.0)
    teams = {row["team"]: row["handoffs"] for row in result["teams"]}
    assert teams == {"enterprise": 3, "inbound": 1}
    buckets = {row["bucket"]: row["handoffs"] for row in result["distribution"]}
    assert buckets == {"under 5 min": 1, "5-30 min": 0, "30 min-4 h": 1, "4-24 h": 1,
                       "over 24 h": 0, "not touched": 1}  # fmt: skip
    marketing = result["marketing"]
    assert (marketing["mqls"], marketing["commitment"], marketing["share_of_commitment"]) == (
        4, 200, 0.02)  # fmt: skip


def test_marketing_commitment_over_a_range_of_days(session: Session, playbook: Playbook) -> None:
    # 200 MQLs a month. 09-04 to 09-19 is half of September: 100 committed, and L3, L4 and L5
    # entered MQL in it (not a commitment of 0 months, which said no share at all).
    half = Cohort(since=day(9, 4), until=day(9, 19))
    marketing = run(session, playbook, "speed", cohort=half)["marketing"]
    assert (marketing["mqls"], marketing["commitment"], marketing["share_of_commitment"]) == (
        3, 100, 0.03)  # fmt: skip
    # Leads created before October, no start: the period is the month that ends there
    # (September: 4 MQLs of 200), not this month (November) running backwards to October
    # (-1 month: a commitment of -200).
    before = Cohort(until=day(10, 1))
    marketing = run(session, playbook, "speed", cohort=before)["marketing"]
    assert (marketing["start"], marketing["end"]) == (day(9, 1).isoformat(), day(10, 1).isoformat())
    assert (marketing["mqls"], marketing["commitment"], marketing["share_of_commitment"]) == (
        4, 200, 0.02)  # fmt: skip
    september = run(session, playbook, "bottlenecks", cohort=before)
    assert september["period"] == {"start": day(9, 1).isoformat(), "end": day(10, 1).isoformat()}
    assert september["rows"][0]["n_now"] == 6


def test_lead_quality_feedback_keeps_lost_deals_apart(session: Session, playbook: Playbook) -> None:
    result = run(session, playbook, "quality")
    found = {(r["action"], r["reason"], r["source"], r["campaign"], r["leads"])
             for r in result["rows"]}  # fmt: skip
    assert found == {("recycled", "no budget", "google", "spring", 1),
                     ("disqualified", "student", "linkedin", "fall", 1)}  # fmt: skip
    assert result["lost_reasons"] == [{"reason": "chose a competitor", "deals": 1}]


def test_lead_quality_counts_an_opportunity_recycled_without_losing_it(
    session: Session, playbook: Playbook
) -> None:
    # Kate (L7, google/spring) made an opportunity 09-10 and sent back to nurture 09-12 with
    # "no budget", the deal not lost: a recycle reason beside L2's (it was in neither list).
    # L5's close lost, an opportunity -> nurture move too, stays a lost reason only.
    lead = session.scalars(select(Lead).where(Lead.email == "g@x.io")).one()
    ana = "ana@flowline.io"
    lifecycle.act(session, lead, Action.CONVERT, actor=ana, reason="", now=day(9, 10))
    lifecycle.act(session, lead, Action.RECYCLE, actor=ana, reason="no budget", now=day(9, 12))
    session.flush()
    result = run(session, playbook, "quality")
    found = sorted((r["action"], r["reason"], r["source"], r["campaign"], r["leads"])
                   for r in result["rows"])  # fmt: skip
    assert found == [("disqualified", "student", "linkedin", "fall", 1),
                     ("recycled", "no budget", "google", "spring", 2)]  # fmt: skip
    assert result["lost_reasons"] == [{"reason": "chose a competitor", "deals": 1}]
    fall = run(session, playbook, "quality", cohort=Cohort(campaign="fall"))
    assert [r["reason"] for r in fall["rows"]] == ["student"]


def test_attribution_first_last_and_linear(session: Session, playbook: Playbook) -> None:
    rows = {r["campaign"]: r for r in run(session, playbook, "attribution")["rows"]}
    assert set(rows) == {"spring", "digest", "retarget", "fall"}  # "late" came after the win
    assert (rows["spring"]["first_touch"], rows["spring"]["last_touch"]) == (1000.0, 0.0)
    assert (rows["fall"]["first_touch"], rows["fall"]["linear"]) == (3000.0, 1500.0)
    assert (rows["digest"]["last_touch"], rows["digest"]["linear"]) == (3000.0, 1833.33)
    assert (rows["retarget"]["last_touch"], rows["retarget"]["linear"]) == (1000.0, 333.33)
    assert rows["digest"]["won_leads"] == 2
    # L1 (1000): spring at creation 09-01, digest 09-10, retarget 09-15, opportunity 09-10;
    # L3 (3000): fall at creation 09-03, digest 09-20, opportunity 09-12.
    assert (rows["spring"]["u_shaped"], rows["retarget"]["u_shaped"]) == (400.0, 400.0)
    assert (rows["fall"]["u_shaped"], rows["digest"]["u_shaped"]) == (1500.0, 1700.0)
    # W: L1's spring is first and made the lead (60%), digest made the opportunity (30%),
    # retarget gets the other 10%; L3's fall holds all three roles (90%), digest 10%.
    assert (rows["spring"]["w_shaped"], rows["retarget"]["w_shaped"]) == (600.0, 100.0)
    assert (rows["fall"]["w_shaped"], rows["digest"]["w_shaped"]) == (2700.0, 300.0 + 300.0)
    # time-decay, half-life 7 days: L3's touches are 27 and 10 days before the win
    fall = 3000 * 2 ** (-27 / 7) / (2 ** (-27 / 7) + 2 ** (-10 / 7))
    assert rows["fall"]["time_decay"] == pytest.approx(fall, abs=0.01)
    longer = run(session, playbook, "attribution", half_life_days=30)
    assert {r["campaign"]: r for r in longer["rows"]}["fall"]["time_decay"] > fall


@pytest.mark.parametrize("half_life", [7.0, 0.5, 90.0])
def test_every_attribution_column_adds_up_to_won_revenue(
    session: Session, playbook: Playbook, half_life: float
) -> None:
    result = run(session, playbook, "attribution", half_life_days=half_life)
    assert result["columns"][1:7] == ["first_touch", "last_touch", "linear", "u_shaped",
                                      "w_shaped", "time_decay"]  # fmt: skip
    for credit in result["columns"][1:7]:
        assert sum(r[credit] for r in result["rows"]) == pytest.approx(4000.0, abs=0.02), credit
    with pytest.raises(Invalid, match="half_life_days"):
        run(session, playbook, "attribution", half_life_days=0)


def test_the_funnel_by_cohort_month(session: Session, playbook: Playbook) -> None:
    september, october = run(session, playbook, "cohorts")["rows"]
    counts = [september[k] for k in ("lead", "mql", "sql", "opportunity", "customer")]
    assert (september["period"], counts) == ("2026-09", [6, 6, 5, 3, 2])
    assert (september["mql_to_next"], september["lead_to_customer"]) == (0.8333, 0.3333)
    assert september["revenue"] == 4000.0
    assert (october["period"], october["lead"], october["lead_to_next"]) == ("2026-10", 1, 0.0)


def test_calibration_by_decile_and_auc(session: Session, playbook: Playbook) -> None:
    result = run(session, playbook, "calibration")
    assert (result["closed"], result["won"], result["roc_auc"]) == (3, 2, 1.0)
    assert [(r["decile"], r["closed"], r["won"]) for r in result["rows"]] == [
        (1, 1, 0), (6, 1, 1), (10, 1, 1)]  # fmt: skip
    assert result["small_sample"] is True


def test_cracks_list_sales_ready_leads_nobody_owns(session: Session, playbook: Playbook) -> None:
    [row] = run(session, playbook, "cracks")["rows"]
    assert (row["email"], row["stage"], row["problem"]) == ("g@x.io", "sql", "no owner")
    assert row["minutes_late"] == 101220.0  # 09-06 05:00 to 11-15 12:00


def test_cracks_count_them_all_and_show_the_page_asked(
    session: Session, playbook: Playbook
) -> None:
    counted = run(session, playbook, "cracks", limit=0)
    assert (counted["rows"], counted["shown"], counted["total"]) == ([], 0, 1)
    assert counted["by_problem"] == {"no owner": 1, "no touch past the SLA": 0}
    assert run(session, playbook, "cracks", offset=1)["rows"] == []
    with pytest.raises(Invalid, match="limit"):
        run(session, playbook, "cracks", limit=-1)


def test_content_that_converts_and_what_prospects_ask(session: Session, playbook: Playbook) -> None:
    result = run(session, playbook, "content")
    rows = {r["item"]: r for r in result["rows"]}
    assert (result["won"], result["lost"]) == (2, 1)
    assert (rows["/pricing"]["won_share"], rows["/pricing"]["lost_share"]) == (1.0, 0.0)
    assert (rows["Email Clicked"]["won_leads"], rows["Email Clicked"]["lost_leads"]) == (2, 0)
    assert rows["Whitepaper Downloaded"]["lift"] == 0.5
    assert (rows["/careers"]["won_share"], rows["/careers"]["lost_leads"]) == (0.0, 1)
    assert "Late Event" not in rows and "Sales Touch" not in rows
    assert result["feedback"] == [
        {"kind": "objection", "text": "price", "stage": "sql", "times": 2},
        {"kind": "question", "text": "do you support sso?", "stage": "sql", "times": 2},
    ]


def test_bottlenecks_compare_a_period_with_its_history(
    session: Session, playbook: Playbook
) -> None:
    result = run(session, playbook, "bottlenecks", period="2026-10")
    worst = result["rows"][0]
    assert (worst["step"], worst["now"], worst["before"], worst["drop"]) == (
        "lead -> next", 0.0, 1.0, 1.0)  # fmt: skip
    assert (worst["n_now"], worst["n_before"]) == (1, 6)


def test_data_quality(session: Session, playbook: Playbook) -> None:
    result = run(session, playbook, "data_quality", stale_days=30)
    problems = {r["problem"]: r["leads"] for r in result["rows"]}
    assert problems["missing title"] == 5
    assert (problems["invalid e-mail"], problems["bouncing e-mail"]) == (1, 1)
    assert problems["no activity for 30 days"] == 3  # L2, L6, L7; closed and lost leads are not
    [pair] = result["duplicates"]  # Katherine and Kate Smith at Acme; Bob and Rob Jones differ
    assert {pair["keep"]["email"], pair["duplicate"]["email"]} == {"a@x.io", "g@x.io"}


def test_data_quality_counts_every_bad_and_bouncing_address_not_only_those_listed(
    session: Session, playbook: Playbook
) -> None:
    # 60 more leads with no usable address, 55 of them bouncing: the counts are 61 and 56
    # (L6 and L4 besides), the lists the first 50 of each.
    for k in range(60):
        lead = Lead(email=f"nobody {k}", stage="lead", created_at=day(9, 20), reached_rank=1)
        session.add(lead)
        session.flush()
        if k < 55:
            event_repo.insert(session, lead_id=lead.id, type="track", name="Email Bounced",
                              occurred_at=day(9, 21), source="api", properties={}, context={},
                              message_id=f"bounce{k}")  # fmt: skip
    session.flush()
    result = run(session, playbook, "data_quality")
    problems = {r["problem"]: (r["leads"], r["share"]) for r in result["rows"]}
    assert result["leads"] == 67
    assert problems["invalid e-mail"] == (61, 0.9104)
    assert problems["bouncing e-mail"] == (56, 0.8358)
    assert (len(result["invalid_emails"]), len(result["bouncing"])) == (50, 50)
    september = run(session, playbook, "data_quality", period="2026-09")  # L6 is October's
    assert {r["problem"]: r["leads"] for r in september["rows"]}["invalid e-mail"] == 60


def test_unknown_reports_and_periods_are_named(session: Session, playbook: Playbook) -> None:
    with pytest.raises(Invalid, match="unknown report 'funel'"):
        run(session, playbook, "funel")
    with pytest.raises(Invalid, match="2026-13"):
        run(session, playbook, "funnel", period="2026-13")


def test_attribution_of_a_win_without_a_closing_time(session: Session, playbook: Playbook) -> None:
    # An import may mark a lead won with no closing time: its events have no "before the win"
    # to be in, so its touch at creation (spring) takes the whole deal in every model, and
    # time-decay (which counts days back from the win) does not fail.
    lead = session.scalars(select(Lead).where(Lead.email == "a@x.io")).one()
    lead.closed_at = None
    session.flush()
    rows = {r["campaign"]: r for r in run(session, playbook, "attribution")["rows"]}
    models = ["first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "time_decay"]
    assert [rows["spring"][m] for m in models] == [1000.0] * 6
    assert "retarget" not in rows and rows["digest"]["won_leads"] == 1
