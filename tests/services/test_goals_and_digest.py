"""Shared goals, the digest and the win announcement on the hand-built history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.lifecycle import Action, Transition
from leadflow.core.plan import PLAN_STAGES
from leadflow.core.playbook import Playbook
from leadflow.core.stages import Stage
from leadflow.models import Assignment, Lead, OutboxMessage, SharedChannel
from leadflow.repositories import events as event_repo
from leadflow.services import digest, goals, lifecycle, plan, sla
from tests.services.test_reports import NOW, day, playbook, session

__all__ = ["playbook", "session"]  # fixtures shared with the report tests

CHAT = "json://127.0.0.1:9/chat"


def test_goals_track_revenue_and_conversion(session: Session) -> None:
    revenue = goals.add_goal(session, name="September revenue", period="2026-09",
                             revenue=8000, now=NOW)  # fmt: skip
    rate = goals.add_goal(session, name="Lead to customer", period="2026-09",
                          conversion="lead:customer", rate=0.5, now=NOW)  # fmt: skip
    money = goals.progress(session, revenue, NOW)
    assert (money["actual"], money["deals"], money["share_of_target"]) == (4000.0, 2, 0.5)
    assert money["on_pace"] is False  # the month is over and half the target is missing
    conversion = goals.progress(session, rate, NOW)
    assert (conversion["actual"], conversion["n"], conversion["small_sample"]) == (0.3333, 6, True)
    assert [g["name"] for g in goals.all_progress(session, NOW)] == [
        "September revenue", "Lead to customer"]  # fmt: skip
    with pytest.raises(Invalid, match="two stages in funnel order"):
        goals.add_goal(session, name="x", period="2026-09", conversion="sql:lead", rate=0.1,
                       now=NOW)  # fmt: skip
    with pytest.raises(Invalid, match="either a revenue target or a conversion"):
        goals.add_goal(session, name="x", period="2026-09", now=NOW)
    with pytest.raises(Invalid, match="period"):
        goals.add_goal(session, name="x", period="September", revenue=1, now=NOW)


def test_the_digest_of_a_month(session: Session, playbook: Playbook) -> None:
    data = digest.build(session, playbook, "2026-09", NOW)
    assert data["funnel"] == {"lead": 6, "mql": 6, "sql": 5, "opportunity": 3, "customer": 2}
    biggest, other = data["new_customers"]
    assert (biggest["email"], biggest["amount"]) == ("c@x.io", 3000.0)
    assert biggest["campaigns"] == ["fall", "digest"]
    assert biggest["content"] == ["/pricing", "Whitepaper Downloaded", "Email Clicked"]
    assert other["campaigns"] == ["spring", "digest", "retarget"]
    assert "Late Event" not in other["content"]  # after the win
    assert data["lost_reasons"] == [{"reason": "chose a competitor", "deals": 1}]
    assert "Won: Kathy Smith 3,000 via fall, digest" in data["text"]
    assert [c["campaign"] for c in data["top_campaigns"]] == ["fall", "spring"]


def test_digest_channels_are_sent_on_their_schedule(session: Session, playbook: Playbook) -> None:
    channel = digest.add_channel(session, "digest", CHAT, schedule="mon 09:00", zone="UTC",
                                 now=NOW)  # fmt: skip
    assert channel.next_run_at is not None and channel.next_run_at.weekday() == 0
    assert digest.send_due(session, playbook, NOW) == 0  # not yet
    later = channel.next_run_at + timedelta(minutes=1)
    assert digest.send_due(session, playbook, later) == 1
    [queued] = session.scalars(select(OutboxMessage)).all()
    assert (queued.event_type, queued.target) == ("report.digest", CHAT)
    assert channel.next_run_at == later.replace(hour=9, minute=0) + timedelta(days=7)
    with pytest.raises(Invalid, match="schedule"):
        digest.add_channel(session, "digest", CHAT, schedule="someday", zone="UTC", now=NOW)
    with pytest.raises(Invalid, match="not an Apprise URL"):
        digest.add_channel(session, "wins", "nope", schedule=None, zone="UTC", now=NOW)
    assert session.scalars(select(SharedChannel)).all() == [channel]


def test_a_digest_due_in_the_hour_the_clocks_repeat_goes_out_once(
    session: Session, playbook: Playbook
) -> None:
    # Before: a digest sent during the repeated hour (a worker late for the first 02:30 of
    # 25 October in Berlin) was next due at that first 02:30, already past, so it went out
    # again on every look until the second 02:30.
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    channel = digest.add_channel(session, "digest", CHAT, schedule="sun 02:30",
                                 zone="Europe/Berlin", now=saturday)  # fmt: skip
    assert channel.next_run_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30, UTC+2
    late = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # 02:10 the second time, UTC+1
    assert digest.send_due(session, playbook, late) == 1
    assert digest.send_due(session, playbook, late + timedelta(minutes=1)) == 0
    assert channel.next_run_at == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def test_a_won_deal_is_announced_with_its_path(session: Session) -> None:
    digest.add_channel(session, "wins", CHAT, schedule=None, zone="UTC", now=NOW)
    lead = session.scalar(select(Lead).where(Lead.email == "e@x.io"))
    assert lead is not None
    lead.stage, lead.outcome = "opportunity", None  # reopened for this test
    lifecycle.act(session, lead, Action.CLOSE_WON, actor="ana", reason="", now=NOW, amount=5000)
    [won] = session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "deal.won"))
    data = won.payload["data"]
    assert won.target == CHAT and data["title"] == "Won: e@x.io, 5,000"
    assert data["content"] == ["/careers", "Whitepaper Downloaded"]


def test_the_digest_names_each_campaign_once_and_keeps_its_cohorts_apart(
    session: Session, playbook: Playbook
) -> None:
    fall = session.scalar(select(Lead).where(Lead.email == "c@x.io"))
    assert fall is not None and fall.closed_at is not None
    event_repo.insert(session, lead_id=fall.id, type="track", name="Email Clicked",
                      occurred_at=fall.closed_at - timedelta(days=1), source="api",
                      properties={"campaign": "fall"}, context={},
                      message_id="again-fall")  # fmt: skip
    data = digest.build(session, playbook, "2026-09", NOW)
    assert data["new_customers"][0]["campaigns"] == ["fall", "digest"]  # acquired by, then clicked
    assert "via fall, digest\n" in data["text"] + "\n"
    # What moved in the month (every lead, whenever created) beside marketing's MQLs ...
    assert data["entered"] == {"lead": 6, "mql": 4, "sql": 5, "opportunity": 3, "customer": 2}
    lines = data["text"].splitlines()
    assert "New in 2026-09: 6 leads, 4 MQLs, 5 SQLs, 3 opportunities, 2 customers" in lines
    assert "Marketing: 4 MQLs of 200 committed" in lines
    # ... and the month's cohort, said to be one
    assert ("Leads created in 2026-09, how far they got: lead 6 -> mql 6 -> sql 5 -> "
            "opportunity 3 -> customer 2") in lines  # fmt: skip


def test_the_digests_sales_lines_count_the_periods_hand_offs_as_leadflow_sla_does(
    session: Session, playbook: Playbook
) -> None:
    """A hand-off is judged in the period it was made, whenever its lead was created: the
    digest's lines per team add up to `leadflow sla`'s month (before, the digest counted the
    hand-offs of the period's new leads, whenever made)."""
    first = session.scalar(select(Lead).where(Lead.email == "a@x.io"))
    assert first is not None and first.created_at.month == 9
    session.add(
        Assignment(
            lead_id=first.id,
            team="enterprise",
            stage="sql",
            reason="again",
            assigned_at=day(10, 2),
            sla_due_at=day(10, 2, 4),
            status="breached",
        )
    )
    session.flush()
    for month, expected in (
        (
            "2026-09",
            [
                "Sales enterprise: 2 met, 1 breached, 0 open",
                "Sales inbound: 0 met, 1 breached, 0 open",
            ],
        ),
        ("2026-10", ["Sales enterprise: 0 met, 1 breached, 0 open"]),
    ):
        lines = [x for x in digest.build(session, playbook, month, NOW)["text"].splitlines()
                 if x.startswith("Sales ")]  # fmt: skip
        assert lines == expected, month
        month_sla = sla.month_report(session, playbook, day(int(month[-2:]), 20))["sales"]
        rows = digest.build(session, playbook, month, NOW)["sla"]["sales"]
        assert [sum(r[k] for r in rows) for k in ("met", "breached", "open")] == [
            month_sla["met"], month_sla["breached"], month_sla["open"]]  # fmt: skip


def test_the_plans_actuals_count_what_the_digest_and_marketings_sla_count(
    session: Session, playbook: Playbook
) -> None:
    """Bob (b@x.io, in nurture since 09-06) qualifies again in October, is recycled and
    qualifies once more: two moves into MQL, as the digest, marketing's SLA and the plan's
    actual for the month all count them (the plan counted one: distinct leads)."""
    bob = session.scalars(select(Lead).where(Lead.email == "b@x.io")).one()
    again = Transition(Stage.NURTURE, Stage.MQL, "entered mql", "system")
    back = Transition(Stage.MQL, Stage.NURTURE, "not yet", "ana")
    for move, at in ((again, day(10, 3)), (back, day(10, 4)), (again, day(10, 8))):
        lifecycle.record(session, bob, move, at)
    session.flush()
    october = digest.build(session, playbook, "2026-10", NOW)
    assert october["entered"]["mql"] == 2
    assert october["sla"]["marketing"]["mqls"] == 2
    assert sla.month_report(session, playbook, day(10, 20))["marketing"]["mqls"] == 2
    request = plan.PlanRequest(goal=10000, deal_size=1000, period="2026-10", reps=2,
                               rates=dict.fromkeys(PLAN_STAGES[:-1], 0.5))  # fmt: skip
    steps = {s["stage"]: s for s in plan.build(session, request, day(10, 20))["stages"]}
    assert steps["mql"]["actual"] == 2
