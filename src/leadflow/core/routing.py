"""Who gets a sales-ready lead: rules, the account's owner, weighted round-robin (pure).

Deterministic: the same rules, lead and rep states always give the same rep, and the decision
says why in words a rep can read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from leadflow.core.conditions import describe, evaluate
from leadflow.core.handoff_rules import Routing
from leadflow.core.working_hours import WorkingHours

# Why a rep cannot take a lead now, in the order routing checks.
Blocker = Literal["inactive", "out of office", "at capacity", "off hours"]


@dataclass(frozen=True, slots=True)
class RepState:
    """A rep as routing sees them at one moment."""

    id: int
    name: str
    email: str
    team: str
    hours: WorkingHours
    weight: float = 1.0
    capacity: int = 20  # new leads per day
    assigned_today: int = 0
    last_assigned_at: datetime | None = None
    out_of_office: bool = False
    active: bool = True

    def blocker(self, now: datetime) -> Blocker | None:
        """What keeps this rep from taking a lead now, or None when they can."""
        if not self.active:
            return "inactive"
        if self.out_of_office:
            return "out of office"
        if self.assigned_today >= self.capacity:
            return "at capacity"
        if not self.hours.is_working(now):
            return "off hours"
        return None

    def why_not(self, now: datetime) -> str | None:
        """Why this rep cannot take a lead now, in words, or None when they can."""
        blocker = self.blocker(now)
        if blocker == "at capacity":
            return f"at capacity ({self.assigned_today}/{self.capacity} today)"
        if blocker == "off hours":
            return f"outside working hours ({self.hours.describe()})"
        return blocker


@dataclass(frozen=True, slots=True)
class Decision:
    """The rep (None: left in the team's queue), the team, and why."""

    rep_id: int | None
    team: str
    reason: str


def route(
    routing: Routing,
    facts: Mapping[str, Any],
    reps: Sequence[RepState],
    now: datetime,
    account_owner: int | None = None,
) -> Decision:
    """The rep for a lead: its account's owner, else the first matching rule's rep or team."""
    by_id = {rep.id: rep for rep in reps}
    owner = by_id.get(account_owner) if account_owner is not None else None
    if routing.account_owner_first and owner is not None and owner.why_not(now) is None:
        return Decision(owner.id, owner.team, f"owns the account ({owner.name})")
    passed: list[str] = []  # matched rules whose rep or team could not take it, and why
    for rule in routing.rules:
        if rule.when is not None and not evaluate(rule.when, facts):
            continue
        matched = f"rule {rule.id}" + (f" ({describe(rule.when)})" if rule.when else "")
        if rule.rep is not None:
            rep = next((r for r in reps if r.email.lower() == rule.rep.lower()), None)
            if rep is not None and rep.why_not(now) is None:
                return Decision(rep.id, rep.team, f"{matched} names {rep.name}")
            excuse = rep.why_not(now) if rep else "no such rep"
            passed.append(f"{matched} names {rule.rep}: {excuse}")
            continue
        assert rule.team is not None
        decision = round_robin(rule.team, reps, now, matched)
        if decision.rep_id is not None:
            return decision
        passed.append(decision.reason)
    why = "; ".join(passed) + "; so the fallback" if passed else "no rule matched"
    return round_robin(routing.fallback, reps, now, why)


def round_robin(team: str, reps: Sequence[RepState], now: datetime, matched: str) -> Decision:
    """Weighted round-robin in a team: the fewest leads today for their weight, then the
    longest wait since their last lead, then the lowest id."""
    members = [r for r in reps if r.team == team]
    able = [r for r in members if r.why_not(now) is None]
    if not able:
        excuses = "; ".join(f"{r.name}: {r.why_not(now)}" for r in members) or "no reps"
        return Decision(None, team, f"{matched} -> team {team}: nobody available ({excuses})")
    never = datetime.min.replace(tzinfo=now.tzinfo)
    rep = min(able, key=lambda r: (r.assigned_today / r.weight, r.last_assigned_at or never, r.id))
    load = f"{rep.assigned_today} of {rep.capacity} leads today"
    return Decision(rep.id, team, f"{matched} -> team {team}; {rep.name} is next ({load})")
