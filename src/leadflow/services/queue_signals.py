"""What each queued lead did this week, counted by the engagement rule it counts for.

When the playbook's `where` conditions read only what an event's stored kind tells apart
(type, name, path: `core.event_kinds`), the week is counted by kind in SQL from an index and
one event of each kind is matched; otherwise the week's events are read and matched, each
kind once (`core.match_memo`). Both say the same; the first reads no JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from leadflow.core import queue_why
from leadflow.core.bulk_events import event_paths
from leadflow.core.event_kinds import covered, kind_of
from leadflow.core.facts import EventFacts
from leadflow.core.match_memo import MatchMemo
from leadflow.core.playbook import Playbook
from leadflow.repositories import events as event_repo

Weeks = dict[int, Counter[str]]  # lead id -> rule id -> events this week


def week_counts(
    session: Session, playbook: Playbook, lead_ids: Sequence[int], now: datetime
) -> Weeks:
    """Each lead's events from a week before `now` to `now`, counted by rule."""
    memo = MatchMemo(playbook)
    paths = event_paths(playbook)
    roots = {path.split(".")[0] for path in paths}
    if covered(paths):
        found = _by_kind(session, memo, lead_ids, now)
        if found is not None:
            return found
    recent = event_repo.facts_since(session, lead_ids, now - queue_why.WEEK, roots)
    return {
        lead: queue_why.week_counts(playbook, events, now, memo) for lead, events in recent.items()
    }


def _by_kind(
    session: Session, memo: MatchMemo, lead_ids: Sequence[int], now: datetime
) -> Weeks | None:
    """None when an event has no stored kind, or a sample event was deleted or changed since
    it was counted (another transaction's: retention blanks an event's properties)."""
    rows = event_repo.kind_counts(session, lead_ids, now - queue_why.WEEK, now)
    if any(row.kind < 0 for row in rows):
        return None
    sample_of: dict[int, int] = {}
    for row in rows:
        sample_of.setdefault(row.kind, row.sample)
    # Properties: what its kind digests, and (kinds being covered) all its rules may read.
    samples = event_repo.facts_by_id(session, sample_of.values(), ["properties"])
    if any(_changed(samples.get(event_id), kind) for kind, event_id in sample_of.items()):
        return None
    rules = {kind: memo.matches(samples[event_id]) for kind, event_id in sample_of.items()}
    weeks: Weeks = {}
    for row in rows:
        counts = weeks.setdefault(row.lead_id, Counter())
        for match in rules[row.kind]:
            counts[match.rule_id] += row.events
    return weeks


def _changed(sample: EventFacts | None, kind: int) -> bool:
    """True when the sample is gone, or no longer of the kind it was counted as."""
    return sample is None or kind_of(sample.type, sample.name, sample.properties) != kind
