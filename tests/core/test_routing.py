"""Routing: the account owner first, rules in order, weighted round-robin, a fallback queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadflow.core.conditions import Condition
from leadflow.core.handoff_rules import Routing, RoutingRule
from leadflow.core.routing import RepState, route
from leadflow.core.working_hours import WorkingHours

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # a Monday morning
HOURS = WorkingHours.parse("mon-fri 08:00-18:00", "UTC")
ROUTING = Routing(
    rules=[
        RoutingRule(
            id="named", when=Condition(field="account.tier", in_=["top"]), team="enterprise"
        ),
        RoutingRule(id="europe", when=Condition(field="country", in_=["DE", "FR"]), team="emea"),
    ],
    fallback="inbound",
)


def rep(id: int, team: str, **more: object) -> RepState:
    return RepState(id, f"Rep {id}", f"rep{id}@flowline.io", team, HOURS, **more)  # type: ignore[arg-type]


REPS = [
    rep(1, "enterprise", assigned_today=3),
    rep(2, "enterprise", assigned_today=1),
    rep(3, "emea"),
    rep(4, "inbound"),
]


def test_rules_in_order_and_the_least_loaded_rep() -> None:
    decision = route(ROUTING, {"account": {"tier": "top"}, "country": "DE"}, REPS, NOW)
    assert decision.rep_id == 2 and decision.team == "enterprise"
    assert (
        "rule named" in decision.reason and "Rep 2 is next (1 of 20 leads today)" in decision.reason
    )


def test_weights_and_waiting_time_break_ties() -> None:
    earlier = NOW - timedelta(hours=2)
    reps = [rep(1, "emea", assigned_today=2, weight=2.0), rep(2, "emea", assigned_today=1)]
    assert route(ROUTING, {"country": "FR"}, reps, NOW).rep_id == 1  # 2/2 = 1 = 1/1, id decides
    reps = [rep(1, "emea", last_assigned_at=NOW), rep(2, "emea", last_assigned_at=earlier)]
    assert route(ROUTING, {"country": "FR"}, reps, NOW).rep_id == 2  # waited longer


def test_the_account_owner_comes_first_when_available() -> None:
    facts = {"account": {"tier": "top"}}
    assert route(ROUTING, facts, REPS, NOW, account_owner=3).rep_id == 3
    away = [*REPS[:2], rep(3, "emea", out_of_office=True), REPS[3]]
    assert route(ROUTING, facts, away, NOW, account_owner=3).rep_id == 2


def test_capacity_hours_and_out_of_office_fall_through_to_the_fallback() -> None:
    reps = [rep(3, "emea", assigned_today=20), rep(4, "inbound")]
    decision = route(ROUTING, {"country": "DE"}, reps, NOW)
    assert decision.rep_id == 4 and decision.team == "inbound"
    night = NOW.replace(hour=23)
    queued = route(ROUTING, {"country": "DE"}, reps, night)
    assert queued.rep_id is None and queued.team == "inbound"
    assert "outside working hours" in queued.reason
