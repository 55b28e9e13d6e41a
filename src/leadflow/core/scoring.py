"""Lead scoring: pure functions from (playbook, facts, matched events, now) to an explained score.

Scoring is split in two so the per-event path stays lean and exact:
`match_event` turns one event into rule matches (the only step that reads event content),
and `score_lead` folds the stored matches at `now`. Sums use `math.fsum`, which is exactly
rounded whatever the order, so scoring matches incrementally equals scoring them in a batch.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from leadflow.core.conditions import as_number, describe, evaluate, lookup
from leadflow.core.engagement_state import (
    LATEST,
    RuleState,
    capped,
    decayed_value,
    epoch_micros,
    fold,
    half_life_micros,
    keep_for,
    window_micros,
)
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import Distance, EngagementRule, EventMatch, FitRule, Playbook

DAY_SECONDS = 86_400.0
PRECISION = 2  # points are reported to the hundredth
# The reports' score bands: a total's band is the lower edge of its run of this many points
# (0-19.99 -> 0, 20-39.99 -> 20, -0.01 -> -20). Stored beside the total (`leads.score_band`).
SCORE_BAND_WIDTH = 20
# Bands of totals beyond this are clamped to it, so that a band fits a 32-bit integer column.
SCORE_BAND_LIMIT = 2_000_000_000

ContributionKind = Literal["fit", "tier", "engagement"]


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One event that an engagement rule counts; the stored, incremental scoring state."""

    rule_id: str
    event_id: str
    occurred_at: datetime
    points: float


@dataclass(frozen=True, slots=True)
class Contribution:
    """Points one rule gave, why, and the events that earned them."""

    rule: str
    label: str
    kind: ContributionKind
    points: float
    events: tuple[str, ...] = ()  # the latest events behind the points (at most LATEST)
    detail: str = ""
    event_count: int | None = None  # how many events the rule counted in all


@dataclass(frozen=True, slots=True)
class PersonaMatch:
    """The persona a lead matches best and which of its criteria it met."""

    id: str
    name: str
    share: float
    met: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LeadScore:
    """Fit, engagement, total and grade, with contributions that sum exactly to the total."""

    fit: float
    engagement: float
    total: float
    grade: str
    persona: PersonaMatch | None
    contributions: tuple[Contribution, ...]

    def as_facts(self) -> dict[str, Any]:
        """Score fields for stage criteria."""
        return {
            "fit": self.fit,
            "engagement": self.engagement,
            "total": self.total,
            "grade": self.grade,
            "fit_letter": self.grade[0],
            "engagement_digit": int(self.grade[1]),
            "persona": self.persona.id if self.persona else None,
        }


def points_sum(values: Iterable[float]) -> float:
    """Exactly rounded sum, independent of order, to the reporting precision."""
    return round(math.fsum(values), PRECISION) + 0.0  # + 0.0 folds -0.0 into 0.0


def score_band(total: float) -> int:
    """The lower edge of the score band holding this total (0 for NaN; clamped to
    +-SCORE_BAND_LIMIT beyond it)."""
    if math.isnan(total):
        return 0
    if abs(total) >= SCORE_BAND_LIMIT:
        return SCORE_BAND_LIMIT if total > 0 else -SCORE_BAND_LIMIT
    return math.floor(total / SCORE_BAND_WIDTH) * SCORE_BAND_WIDTH


def _one_of(value: str | None, options: list[str] | None) -> bool:
    if options is None:
        return True
    return value is not None and value.casefold() in {o.casefold() for o in options}


def event_matches(match: EventMatch, event: EventFacts) -> bool:
    """True when the event is of the type and name and meets the `where` condition."""
    if not (_one_of(event.type, match.type) and _one_of(event.name, match.name)):
        return False
    return match.where is None or evaluate(match.where, event.as_facts())


def match_event(playbook: Playbook, event: EventFacts) -> list[RuleMatch]:
    """The engagement rules this event counts for."""
    return [
        RuleMatch(rule.id, event.id, event.occurred_at, rule.points)
        for rule in playbook.engagement.rules
        if event_matches(rule.event, event)
    ]


def distance_points(rule: FitRule, distance: Distance, facts: Mapping[str, Any]) -> float:
    """Full points inside the ideal band, falling linearly to zero `zero_at` away."""
    value = as_number(lookup(facts, distance.field))
    if value is None:
        return 0.0
    low, high = distance.ideal
    if distance.scale == "log10":
        if value <= 0:
            return 0.0
        value, low, high = math.log10(value), math.log10(low), math.log10(high)
    gap = max(low - value, 0.0, value - high)
    return rule.points * max(0.0, 1.0 - gap / distance.zero_at)


def fit_contributions(playbook: Playbook, facts: Mapping[str, Any]) -> list[Contribution]:
    """Explicit points: each fit rule that applies, plus the account's tier."""
    found: list[Contribution] = []
    for rule in playbook.fit.rules:
        if rule.distance is not None:
            points = round(distance_points(rule, rule.distance, facts), PRECISION)
        elif rule.when is not None and evaluate(rule.when, facts):
            points = round(rule.points, PRECISION)  # shown to the hundredth, as it is summed
        else:
            continue
        if points:
            found.append(Contribution(rule.id, rule.label, "fit", points, detail=fit_detail(rule)))
    account = facts.get("account") or {}
    tier = next((t for t in playbook.tiers if t.id == account.get("tier")), None)
    points = round(tier.points, PRECISION) if tier is not None else 0.0
    if tier is not None and points:
        label = f"Target account: {tier.label or tier.id}"
        found.append(Contribution(f"tier:{tier.id}", label, "tier", points))
    return found


def fit_detail(rule: FitRule) -> str:
    """Why a fit rule gives its points: its condition, or what its distance measures."""
    if rule.distance is not None:
        return f"{rule.distance.field} vs ideal {list(rule.distance.ideal)}"
    return describe(rule.when) if rule.when is not None else ""


def engagement_detail(playbook: Playbook, rule: EngagementRule, count: int, points: float) -> str:
    """Why an engagement rule gives `points` (as shown, rounded) from the `count` events it
    matched: one text on every path (live, bulk, the decay refresh), from what they all have."""
    if rule.window is not None:
        return f"at least {rule.window.count} in the last {rule.window.days:g} days"
    detail = f"{count} x {rule.points:g}"
    half_life = _half_life(playbook, rule)
    if half_life:
        detail += f", half-life {half_life:g} days"
    if rule.cap is not None and abs(points) >= round(rule.cap, PRECISION):  # at the cap
        detail += f", capped at {rule.cap:g}"
    return detail


def stored_detail(playbook: Playbook, entry: Mapping[str, Any]) -> str:
    """Why a stored contribution gave its points, from the playbook and what every path
    stores (rule, points, how many events it counted): told when shown, so a re-score, the
    decay refresh and live scoring explain a score in the same words. An entry whose rule the
    playbook no longer has keeps the words it was stored with, if any."""
    rule_id, kind = entry.get("rule"), entry.get("kind")
    if kind == "fit":
        fit = next((r for r in playbook.fit.rules if r.id == rule_id), None)
        if fit is not None:
            return fit_detail(fit)
    elif kind == "engagement" and "event_count" in entry:  # (an earlier re-score kept none)
        rule = next((r for r in playbook.engagement.rules if r.id == rule_id), None)
        if rule is not None:
            count = int(entry["event_count"] or 0)
            return engagement_detail(playbook, rule, count, float(entry["points"]))
    return str(entry.get("detail") or "")


def _half_life(playbook: Playbook, rule: EngagementRule) -> float | None:
    if not rule.decay:
        return None
    return rule.half_life_days or playbook.engagement.half_life_days


def rule_state(playbook: Playbook, rule: EngagementRule, matches: Iterable[RuleMatch]) -> RuleState:
    """The rule's state after folding these matches (see `core.engagement_state`)."""
    half_life = _half_life(playbook, rule)
    half_life_us = half_life_micros(half_life) if half_life and not rule.window else None
    keep = keep_for(rule.window.count if rule.window else None)
    state = RuleState()
    for m in matches:
        time_us = epoch_micros(m.occurred_at)
        state = fold(state, m.points, time_us, m.event_id, half_life_us=half_life_us, keep=keep)
    return state


def rule_points(
    playbook: Playbook, rule: EngagementRule, state: RuleState, now: datetime
) -> tuple[float, tuple[str, ...], str]:
    """The rule's points at `now` from its state, the latest events behind them, and why."""
    now_us = epoch_micros(now)
    if rule.window is not None:
        since = now_us - window_micros(rule.window.days)
        recent = [e for e in state.latest if e[0] > since]
        if len(recent) < rule.window.count:
            return 0.0, (), ""
        detail = engagement_detail(playbook, rule, state.count, rule.points)
        return rule.points, tuple(e[1] for e in recent[-LATEST:]), detail
    half_life = _half_life(playbook, rule)
    events = tuple(e[1] for e in state.latest[-LATEST:])
    if half_life and state.band is not None:
        value = decayed_value(state.anchored(), state.band, now_us, half_life_micros(half_life))
    else:
        value = state.count * rule.points  # the exactly rounded sum of `count` equal terms
    value = capped(value, rule.cap)
    return value, events, engagement_detail(playbook, rule, state.count, round(value, PRECISION))


def engagement_contributions(
    playbook: Playbook, matches: Iterable[RuleMatch], now: datetime
) -> list[Contribution]:
    """Implicit points: each engagement rule's decayed, capped sum over its matched events."""
    by_rule: dict[str, list[RuleMatch]] = defaultdict(list)
    for match in matches:
        if match.occurred_at <= now:
            by_rule[match.rule_id].append(match)
    states = {
        rule.id: rule_state(playbook, rule, by_rule[rule.id])
        for rule in playbook.engagement.rules
        if rule.id in by_rule
    }
    return state_contributions(playbook, states, now)


def state_contributions(
    playbook: Playbook, states: Mapping[str, RuleState], now: datetime
) -> list[Contribution]:
    """Implicit points from each engagement rule's state (see `rule_points`)."""
    found: list[Contribution] = []
    for rule in playbook.engagement.rules:
        state = states.get(rule.id)
        if state is None or not state.count:
            continue
        value, events, detail = rule_points(playbook, rule, state, now)
        points = round(value, PRECISION)
        if points:
            found.append(
                Contribution(rule.id, rule.label, "engagement", points, events, detail, state.count)
            )
    return found


GRADE_PATTERN = r"^[A-D][1-4]$"  # every grade `grade` gives: A1 (best) to D4


def grade(playbook: Playbook, fit: float, engagement: float) -> str:
    """Fit letter (A best) and engagement digit (1 best), e.g. `B2`."""
    cuts = playbook.grade
    letter = next((k for k in ("A", "B", "C") if fit >= cuts.fit[k]), "D")
    digit = next((k for k in ("1", "2", "3") if engagement >= cuts.engagement[k]), "4")
    return letter + digit


def best_persona(playbook: Playbook, facts: Mapping[str, Any]) -> PersonaMatch | None:
    """The persona whose criteria the lead meets best (first wins a tie), if any qualifies."""
    best: PersonaMatch | None = None
    for persona in playbook.personas:
        met = tuple(describe(c) for c in persona.criteria if evaluate(c, facts))
        share = len(met) / len(persona.criteria)
        if share >= persona.min_match and share > 0 and (best is None or share > best.share):
            best = PersonaMatch(persona.id, persona.name, round(share, 4), met)
    return best


def score_lead(
    playbook: Playbook, facts: Mapping[str, Any], matches: Iterable[RuleMatch], now: datetime
) -> LeadScore:
    """The lead's score at `now`, explained rule by rule."""
    return explained(playbook, facts, engagement_contributions(playbook, matches, now))


def score_from_state(
    playbook: Playbook, facts: Mapping[str, Any], states: Mapping[str, RuleState], now: datetime
) -> LeadScore:
    """The lead's score at `now` from its engagement rules' states (the per-event path)."""
    return explained(playbook, facts, state_contributions(playbook, states, now))


def explained(
    playbook: Playbook, facts: Mapping[str, Any], engagement_part: list[Contribution]
) -> LeadScore:
    """Fit from the facts plus these engagement contributions: the whole explained score."""
    fit_part = fit_contributions(playbook, facts)
    fit = points_sum(c.points for c in fit_part)
    engagement = points_sum(c.points for c in engagement_part)
    return LeadScore(
        fit=fit,
        engagement=engagement,
        total=points_sum(c.points for c in (*fit_part, *engagement_part)),
        grade=grade(playbook, fit, engagement),
        persona=best_persona(playbook, facts),
        contributions=(*fit_part, *engagement_part),
    )


def score_from_events(
    playbook: Playbook, facts: Mapping[str, Any], events: Iterable[EventFacts], now: datetime
) -> LeadScore:
    """Recompute from scratch: match every event, then fold."""
    matches = [m for event in events for m in match_event(playbook, event)]
    return score_lead(playbook, facts, matches, now)
