"""Keep each lead's per-rule engagement state current, so scoring one event reads no history.

A lead's state is valid for the playbook's engagement rules as they are (a fingerprint kept
in a marker row). New events are folded into a valid state; a lead without one (new, its
events moved, or the rules changed) is rebuilt once from its events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.engagement_state import RuleState, epoch_micros, fold, half_life_micros, keep_for
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import EngagementRule, Playbook
from leadflow.core.scoring import _half_life, match_event, rule_state
from leadflow.repositories import events as event_repo
from leadflow.repositories import rule_state as state_repo
from leadflow.services.leads import event_facts

MARKER = "*"  # the row that says for which rules a lead's states were built
States = dict[str, RuleState]


_known: dict[int, tuple[Playbook, dict[str, str], str]] = {}


def rule_keys(playbook: Playbook) -> tuple[dict[str, str], str]:
    """Each engagement rule's fingerprint, and the fingerprint of them all (cached per object)."""
    seen = _known.get(id(playbook))
    if seen is not None and seen[0] is playbook:
        return seen[1], seen[2]
    keys = []
    for rule in playbook.engagement.rules:
        text = f"{rule.model_dump_json()}|{_half_life(playbook, rule)}"
        keys.append((rule.id, hashlib.sha256(text.encode()).hexdigest()[:16]))
    whole = hashlib.sha256(repr(keys).encode()).hexdigest()[:16]
    if len(_known) > 32:
        _known.clear()
    _known[id(playbook)] = (playbook, dict(keys), whole)
    return dict(keys), whole


def states_for(
    session: Session,
    playbook: Playbook,
    lead_ids: Sequence[int],
    new_events: Mapping[int, Sequence[EventFacts]],
    now: datetime,
) -> dict[int, States]:
    """Every lead's states, brought up to date with its new (just stored) events."""
    keys, whole = rule_keys(playbook)
    stored = state_repo.read(session, lead_ids)
    states: dict[int, States] = {}
    stale: list[int] = []
    for lead_id in lead_ids:
        rows = stored.get(lead_id, {})
        marker = rows.get(MARKER)
        if marker is None or marker["rule_key"] != whole:
            stale.append(lead_id)
            continue
        states[lead_id] = {r: _from_row(row) for r, row in rows.items() if r != MARKER}
    changed: list[dict[str, Any]] = []
    rules = {rule.id: rule for rule in playbook.engagement.rules}
    for lead_id, lead_states in states.items():
        touched = _fold_events(playbook, lead_states, new_events.get(lead_id, ()), now)
        changed += [_row(lead_id, rules[r], keys[r], lead_states[r]) for r in sorted(touched)]
    state_repo.write(session, changed)
    if stale:
        states.update(_rebuild(session, playbook, stale, now))
    return states


def _fold_events(
    playbook: Playbook, states: States, events: Iterable[EventFacts], now: datetime
) -> set[str]:
    rules = {rule.id: rule for rule in playbook.engagement.rules}
    touched: set[str] = set()
    for event in events:
        if event.occurred_at > now:  # scoring ignores the future
            continue
        for match in match_event(playbook, event):
            rule = rules[match.rule_id]
            half_life = _half_life(playbook, rule)
            states[rule.id] = fold(
                states.get(rule.id, RuleState()),
                match.points,
                epoch_micros(match.occurred_at),
                match.event_id,
                half_life_us=half_life_micros(half_life) if half_life and not rule.window else None,
                keep=keep_for(rule.window.count if rule.window else None),
            )
            touched.add(rule.id)
    return touched


def _rebuild(
    session: Session, playbook: Playbook, lead_ids: list[int], now: datetime
) -> dict[int, States]:
    keys, whole = rule_keys(playbook)
    # Every type: the core matches types case-insensitively, the SQL filter would not.
    history = event_repo.for_leads(session, lead_ids) if playbook.engagement.rules else {}
    built: dict[int, States] = {}
    rows: list[dict[str, Any]] = []
    rules = {rule.id: rule for rule in playbook.engagement.rules}
    for lead_id in lead_ids:
        events = [event_facts(e) for e in history.get(lead_id, ())]
        states = states_from_events(playbook, events, now)
        rows += [_row(lead_id, rules[r], keys[r], state) for r, state in states.items()]
        rows.append(_marker(lead_id, whole))
        built[lead_id] = states
    state_repo.replace(session, rows, lead_ids)
    return built


def states_from_events(playbook: Playbook, events: Sequence[EventFacts], now: datetime) -> States:
    """Every rule's state built from a lead's whole history (events after `now` ignored)."""
    matches = [m for e in events if e.occurred_at <= now for m in match_event(playbook, e)]
    states: States = {}
    for rule in playbook.engagement.rules:
        mine = [m for m in matches if m.rule_id == rule.id]
        if mine:
            states[rule.id] = rule_state(playbook, rule, mine)
    return states


def fold_events(
    playbook: Playbook, states: States, events: Iterable[EventFacts], now: datetime
) -> set[str]:
    """Fold new events into these states in place; the rules they touched."""
    return _fold_events(playbook, states, events, now)


def as_json(state: RuleState) -> dict[str, Any]:
    """A state as JSON (what `from_json` reads back, bit for bit)."""
    return {
        "count": state.count,
        "band": state.band,
        "partials": [list(state.top), list(state.below)],
        "latest": [[t, e] for t, e in state.latest],
    }


def from_json(value: Mapping[str, Any]) -> RuleState:
    """A state stored by `as_json` (or a `rule_states` row)."""
    return _from_row(value)


def _marker(lead_id: int, key: str) -> dict[str, Any]:
    return _row_of(lead_id, MARKER, key, RuleState(), None)


def _row(lead_id: int, rule: EngagementRule, key: str, state: RuleState) -> dict[str, Any]:
    return _row_of(lead_id, rule.id, key, state, rule.window.count if rule.window else None)


def _row_of(
    lead_id: int, rule_id: str, key: str, state: RuleState, window_count: int | None
) -> dict[str, Any]:
    window_from = None
    if window_count is not None and len(state.latest) >= window_count:
        window_from = state.latest[-window_count][0]
    return {
        "lead_id": lead_id,
        "rule_id": rule_id,
        "rule_key": key,
        "count": state.count,
        "band": state.band,
        "anchored": state.anchored() if state.band is not None else None,
        "window_from": window_from,
        "partials": [list(state.top), list(state.below)],
        "latest": [[t, e] for t, e in state.latest],
    }


def _from_row(row: Mapping[str, Any]) -> RuleState:
    top, below = row["partials"]
    return RuleState(
        count=row["count"],
        latest=tuple((int(t), str(e)) for t, e in row["latest"]),
        band=row["band"],
        top=tuple(float(x) for x in top),
        below=tuple(float(x) for x in below),
    )
