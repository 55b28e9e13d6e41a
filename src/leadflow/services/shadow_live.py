"""The shadow step of the live pipeline: a candidate playbook scores what the active one scored.

It acts on nothing: no stage moves, alerts or hand-offs, nothing on the lead. It keeps, per
lead, the candidate's own engagement states (so an event reads no history, as for the active
playbook), its score, the stage each playbook's automatic rules would give the lead from a
fresh start, and when each first made the lead an MQL or better. It runs in the caller's
transaction with the same facts and pure scoring functions as the live step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import facts as core_facts
from leadflow.core.facts import EventFacts
from leadflow.core.lifecycle import automatic_transition
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import LeadScore
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories import events as event_repo
from leadflow.repositories import playbook_versions
from leadflow.repositories import shadow as repo
from leadflow.services import engagement_state, live_scoring
from leadflow.services.leads import account_dict, event_facts, lead_dict

_parsed: dict[str, Playbook] = {}
MQL_RANK = funnel_rank(Stage.MQL)


@dataclass(frozen=True)
class Scored:
    """One lead as the live step just scored it with the active playbook."""

    lead: Lead
    account: Account | None
    facts: dict[str, Any]
    score: LeadScore


def candidate(session: Session, key: tuple[int, str] | None) -> tuple[int, Playbook] | None:
    """The shadow version's id and parsed playbook (parsed once per process), if one runs;
    `key` is its id and content hash, as the live snapshot read them."""
    if key is None:
        return None
    version_id, digest = key
    if digest not in _parsed:
        version = playbook_versions.get(session, version_id)
        assert version is not None  # just read by id
        _parsed[digest] = parse_playbook(version.content, declared=False)
    return version_id, _parsed[digest]


def would_stage(
    playbook: Playbook,
    current: Stage,
    score: LeadScore,
    facts: Mapping[str, Any],
    arrived: Sequence[EventFacts],
    now: datetime,
) -> Stage:
    """Where this playbook's automatic rules take a lead from `current` (nothing is moved)."""
    move = automatic_transition(playbook, current, score, facts, arrived, now)
    return move.to_stage if move is not None else current


def _mql_since(before: datetime | None, stage: Stage, now: datetime) -> datetime | None:
    if before is not None:
        return before
    return now if funnel_rank(stage) >= MQL_RANK else None


def _states(
    book: Playbook,
    before: Mapping[str, Any] | None,
    past: Sequence[Event] | None,
    arrived: Sequence[EventFacts],
    now: datetime,
) -> engagement_state.States:
    """The candidate's engagement states: rebuilt from the lead's events when it has none
    valid (`past` given), else the stored ones with the new events folded in."""
    if past is not None or before is None:
        return engagement_state.states_from_events(book, [event_facts(e) for e in past or ()], now)
    states = {r: engagement_state.from_json(v) for r, v in before["states"].items()}
    engagement_state.fold_events(book, states, arrived, now)
    return states


def observe(
    session: Session,
    active: Playbook,
    scored: Sequence[Scored],
    new_events: Mapping[int, Sequence[EventFacts]],
    now: datetime,
    shadow: tuple[int, str] | None,
) -> None:
    """Score these leads with the shadow playbook too, if one runs (`shadow`: its id and
    content hash), and store its verdicts."""
    found = candidate(session, shadow) if scored else None
    if found is None:
        return
    version_id, book = found
    _, whole = engagement_state.rule_keys(book)
    stored = repo.read(session, [s.lead.id for s in scored])
    mine = {k: row for k, row in stored.items() if row["version_id"] == version_id}
    stale = [s.lead.id for s in scored if (mine.get(s.lead.id) or {}).get("rule_key") != whole]
    history = event_repo.for_leads(session, stale) if stale and book.engagement.rules else {}
    rows = []
    for item in scored:
        lead_id = item.lead.id
        before = mine.get(lead_id)
        arrived = new_events.get(lead_id, ())
        past = history.get(lead_id, ()) if lead_id in stale else None
        states = _states(book, before, past, arrived, now)
        facts = core_facts.facts_of(book, lead_dict(item.lead), account_dict(item.account))
        score = live_scoring.score(book, facts, states, now)
        stage = Stage(before["stage"]) if before else Stage.SUBSCRIBER
        stage = would_stage(book, stage, score, facts, arrived, now)
        theirs = Stage(before["active_stage"]) if before else Stage.SUBSCRIBER
        theirs = would_stage(active, theirs, item.score, item.facts, arrived, now)
        rows.append(
            {
                "lead_id": lead_id,
                "version_id": version_id,
                "rule_key": whole,
                "states": {r: engagement_state.as_json(v) for r, v in sorted(states.items())},
                "total": score.total,
                "grade": score.grade,
                "stage": stage.value,
                "mql_at": _mql_since((before or {}).get("mql_at"), stage, now),
                "active_total": item.score.total,
                "active_stage": theirs.value,
                "active_mql_at": _mql_since((before or {}).get("active_mql_at"), theirs, now),
                "scored_at": now,
            }
        )
    repo.write(session, rows)
