"""Engagement in bulk: which rules each distinct kind of event counts for, then sums per lead.

An event's matches depend only on its type, name and the `where` fields the rules read, so
`event_matches` runs once per distinct combination of those. The per-lead fold (decay, caps,
windows) is then a handful of array operations per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from leadflow.core.bulk_columns import BoolArray, Column, FactTable, FloatArray, IntArray, floats
from leadflow.core.bulk_math import UNIT, round_points, settle
from leadflow.core.engagement_state import (
    DOWN,
    FRACTION_BITS,
    STEP,
    UP,
    epoch_micros,
    from_micros,
    half_life_micros,
    scaled,
    split,
)
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import EngagementRule, Playbook
from leadflow.core.scoring import (
    RuleMatch,
    _half_life,
    engagement_contributions,
    event_matches,
)

EVENT_ROOTS = ("properties", "context")  # what `where` can read besides type and name
_EPOCH = datetime(1970, 1, 1)
Tables = tuple[tuple[float, ...], ...]
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class EventColumns:
    """Events as columns. `lead` indexes the lead rows; times are integer microseconds."""

    lead: IntArray
    type: Column
    name: Column
    occurred_us: IntArray
    where: Mapping[str, Column] = field(default_factory=dict)


def event_paths(playbook: Playbook) -> set[str]:
    """The event fields `where` conditions read beyond type and name, e.g. `properties.path`."""
    return {
        path
        for rule in playbook.engagement.rules
        if rule.event.where is not None
        for path in rule.event.where.fields()
        if path.split(".")[0] in EVENT_ROOTS
    }


def _nest(facts: Mapping[str, Any], root: str) -> dict[str, Any]:
    """The mapping under `root` that holds the values read at its dotted paths."""
    whole = facts.get(root)
    tree: dict[str, Any] = dict(whole) if isinstance(whole, Mapping) else {}
    for path in sorted(p for p in facts if p.startswith(root + ".")):
        if facts[path] is None:  # missing and null read the same in every condition
            continue
        *parents, leaf = path.split(".")[1:]
        node = tree
        for part in parents:
            child = node.get(part)
            copy = dict(child) if isinstance(child, Mapping) else {}
            node[part] = copy
            node = copy
        node[leaf] = facts[path]
    return tree


def _event(facts: Mapping[str, Any]) -> EventFacts:
    return EventFacts(
        id="",
        type=facts["type"],
        occurred_at=_EPOCH,
        name=facts["name"],
        properties=_nest(facts, "properties"),
        context=_nest(facts, "context"),
    )


def match_table(playbook: Playbook, events: EventColumns) -> tuple[IntArray, BoolArray]:
    """Each event's kind, and for each kind (row) which engagement rules (columns) it matches."""
    rules = playbook.engagement.rules
    columns = {"type": events.type, "name": events.name, **events.where}
    table = FactTable(columns, len(events.lead))
    kinds, facts = table.groups(["type", "name", *sorted(event_paths(playbook))])
    kinds_seen = [_event(f) for f in facts]
    matrix = [[event_matches(rule.event, event) for rule in rules] for event in kinds_seen]
    return kinds, np.array(matrix, np.bool_).reshape(len(facts), len(rules))


def engagement_matrix(
    playbook: Playbook, events: EventColumns, leads: int, now: datetime
) -> tuple[FloatArray, IntArray]:
    """Rounded points per lead (row) and engagement rule (column) at `now`, and how many
    events each rule matched for each lead (what a rule's explanation counts)."""
    rules = playbook.engagement.rules
    out = np.zeros((leads, len(rules)))
    counted = np.zeros((leads, len(rules)), np.int64)
    if not rules or not len(events.lead):
        return out, counted
    kinds, table = match_table(playbook, events)
    now_us = epoch_micros(now)
    keep = (events.occurred_us <= now_us) & (events.lead >= 0) & (events.lead < leads)
    for r, rule in enumerate(rules):
        if not table[:, r].any():
            continue
        hit = keep & table[:, r][kinds]
        lead, occurred = events.lead[hit], events.occurred_us[hit]
        out[:, r] = _rule_column(playbook, rule, lead, occurred, leads, now)
        counted[:, r] = np.bincount(lead, minlength=leads)
    return out, counted


def _rule_column(
    playbook: Playbook,
    rule: EngagementRule,
    lead: IntArray,
    occurred: IntArray,
    leads: int,
    now: datetime,
) -> FloatArray:
    now_us = epoch_micros(now)
    if rule.window is not None:
        since = now_us - timedelta(days=rule.window.days) // _MICROSECOND
        recent = np.bincount(lead[occurred > since], minlength=leads)
        return round_points(np.where(recent >= rule.window.count, rule.points, 0.0))
    counts = np.bincount(lead, minlength=leads)
    half_life = _half_life(playbook, rule)
    if not half_life:
        # n equal terms: fsum is n * points exactly rounded, which one float product is.
        value = floats(counts * rule.points)
        return round_points(value if rule.cap is None else np.clip(value, -rule.cap, rule.cap))
    sums = decayed_sums(rule.points, lead, occurred, leads, now_us, half_life_micros(half_life))
    # Each term and the core's value are a few roundings off the exact sum and every term has
    # the rule's sign, so the error stays below (count + 8) ulps of the sum (plus underflow).
    bound = floats((counts + 8) * UNIT * np.abs(sums) + 1e-300)

    def exact(rows: IntArray) -> FloatArray:
        return _core_points(playbook, rule, lead, occurred, rows, now)

    return settle(sums, bound, exact, rule.cap)


def split_array(micros: IntArray, half_life_us: int) -> tuple[IntArray, IntArray]:
    """`engagement_state.split` of every moment."""
    whole, rest = np.divmod(micros, half_life_us)
    steps = np.floor(rest / float(half_life_us) * 2.0**FRACTION_BITS).astype(np.int64)
    return whole, np.minimum(steps, 2**FRACTION_BITS - 1)


def scaled_array(values: FloatArray, steps: IntArray, table: Tables) -> FloatArray:
    """`engagement_state.scaled` of every value: the same lookups, multiplied in the same order."""
    first, second, third = (np.asarray(t) for t in table)
    out: FloatArray = values * first[steps >> 20] * second[(steps >> 10) & 1023]
    out = out * third[steps & 1023]
    return out


def decayed_sums(
    points: float, lead: IntArray, occurred: IntArray, leads: int, now_us: int, half_life_us: int
) -> FloatArray:
    """Approximately the core's decayed value per lead (the newest two bands of each lead)."""
    whole, steps = split_array(occurred, half_life_us)
    band = whole // STEP
    newest = np.full(leads, np.iinfo(np.int64).min // 2, np.int64)
    np.maximum.at(newest, lead, band)
    kept = band >= newest[lead] - 1
    now_whole, now_steps = split(now_us, half_life_us)
    terms = scaled_array(np.full(int(kept.sum()), points), steps[kept], UP)
    terms = np.ldexp(terms, (whole[kept] - now_whole).astype(np.int32))
    terms = scaled(1.0, now_steps, DOWN) * terms
    return floats(np.bincount(lead[kept], weights=terms, minlength=leads))


def _core_points(
    playbook: Playbook,
    rule: EngagementRule,
    lead: IntArray,
    occurred: IntArray,
    rows: IntArray,
    now: datetime,
) -> FloatArray:
    """The core's own points for these leads: the rare sums too close to a hundredth."""
    wanted = np.isin(lead, rows)
    matches: dict[int, list[RuleMatch]] = {}
    for i, micros in zip(lead[wanted].tolist(), occurred[wanted].tolist(), strict=True):
        match = RuleMatch(rule.id, "", from_micros(micros, now), rule.points)
        matches.setdefault(i, []).append(match)
    points = []
    for i in rows.tolist():
        found = engagement_contributions(playbook, matches.get(i, []), now)
        points.append(found[0].points if found else 0.0)
    return np.array(points, np.float64)
