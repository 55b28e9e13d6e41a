"""Why a rep should call a sales-ready lead now, in a line or two a rep reads at a glance.

What tipped the lead (the move into its stage and its reason), what it did this week in the
playbook's own words ("Viewed pricing x10"), its grade and score, its persona and the first
talking point. Pure: the service passes the stored move and the week's events counted by rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadflow.core.facts import EventFacts
from leadflow.core.match_memo import MatchMemo
from leadflow.core.playbook import EngagementRule, Playbook

WEEK = timedelta(days=7)
TOP_SIGNALS = 3


@dataclass(frozen=True)
class Why:
    """What the queue's "Why" column shows for one lead."""

    tipped: str | None  # the reason of the move into the current stage
    tipped_at: datetime | None
    signals: tuple[str, ...]  # this week's activity by engagement rule, weightiest first
    grade: str | None
    score: float
    persona: str | None
    talking_point: str | None


def week_counts(
    playbook: Playbook, events: Sequence[EventFacts], now: datetime, memo: MatchMemo | None = None
) -> Counter[str]:
    """This week's events counted by the engagement rule they count for. Pass one `memo` for
    many leads: their events are mostly of a few kinds."""
    memo = memo or MatchMemo(playbook)
    counts: Counter[str] = Counter()
    for event in events:
        if now - WEEK <= event.occurred_at <= now:
            counts.update(match.rule_id for match in memo.matches(event))
    return counts


def ranked(playbook: Playbook, counts: Mapping[str, int]) -> tuple[str, ...]:
    """A week's counts by rule as signals, weightiest (points x count) first: ("Requested a
    demo", "Viewed pricing x10"); rules worth nothing (or less) are left out."""
    rules = {rule.id: rule for rule in playbook.engagement.rules}
    worth = [r for r in counts if r in rules and _weight(rules[r], counts[r]) > 0]
    worth.sort(key=lambda r: (-_weight(rules[r], counts[r]), r))
    return tuple(_counted(rules[r], counts[r]) for r in worth[:TOP_SIGNALS])


def _weight(rule: EngagementRule, count: int) -> float:
    """The points a week of these events is worth, before decay: a window rule pays once,
    when the week holds its count."""
    if rule.window is not None:
        return rule.points if count >= rule.window.count else 0.0
    return min(rule.points * count, rule.cap) if rule.cap is not None else rule.points * count


def _counted(rule: EngagementRule, count: int) -> str:
    label = rule.label or rule.id
    return label if count == 1 or rule.window is not None else f"{label} x{count}"


def _said_once(reason: str | None) -> str | None:
    """A hand-raiser's reason names its label and its event ("Demo requested: Demo
    Requested"); when both say the same, once is enough."""
    if reason is None or ": " not in reason:
        return reason
    label, _, event = reason.partition(": ")
    return label if label.casefold() == event.casefold() else reason


def why(
    playbook: Playbook,
    *,
    persona_id: str | None,
    grade: str | None,
    score: float,
    move_reason: str | None,
    moved_at: datetime | None,
    week: Mapping[str, int],
) -> Why:
    """Everything the queue says about why this lead is worth a call now; `week` is this
    week's events counted by rule (`week_counts`)."""
    persona = next((p for p in playbook.personas if p.id == persona_id), None)
    points = persona.psychographics.talking_points if persona else []
    return Why(
        tipped=_said_once(move_reason),
        tipped_at=moved_at,
        signals=ranked(playbook, week),
        grade=grade,
        score=score,
        persona=persona.name if persona else None,
        talking_point=points[0] if points else None,
    )
