"""Engagement rules matched once per kind of event, for code that matches many events at once.

Whether an event counts for a rule depends only on its type, its name and the values its
rules' `where` conditions read, so events that agree on those (every page view of
/pricing, say) are one kind: `match_event` runs once per kind, not once per event. The queue
reads a week of events for each of its leads; most are a handful of kinds. (Unlike
`core.event_kinds`, which digests only what a bulk re-score reads, this reads every `where` field.)
"""

from __future__ import annotations

from collections.abc import Hashable

from leadflow.core.conditions import lookup
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import RuleMatch, match_event

KINDS_KEPT = 4096  # distinct kinds remembered; past it the memory starts again


class MatchMemo:
    """Matches events to one playbook's engagement rules, remembering each kind's rules."""

    def __init__(self, playbook: Playbook) -> None:
        self._playbook = playbook
        self._paths = sorted(
            {
                path
                for rule in playbook.engagement.rules
                if rule.event.where is not None
                for path in rule.event.where.fields()
            }
        )
        self._seen: dict[Hashable, tuple[tuple[str, float], ...]] = {}

    def _kind(self, event: EventFacts) -> Hashable:
        facts = event.as_facts()
        # repr keeps types apart (1 and "1" and True differ) and makes lists and mappings
        # hashable; two reprs of one value (keys in another order) only cost a second match.
        return (event.type, event.name, *(repr(lookup(facts, p)) for p in self._paths))

    def matches(self, event: EventFacts) -> list[RuleMatch]:
        """The engagement rules this event counts for: what `match_event` says."""
        kind = self._kind(event)
        rules = self._seen.get(kind)
        if rules is None:
            if len(self._seen) >= KINDS_KEPT:
                self._seen.clear()
            found = match_event(self._playbook, event)
            rules = self._seen[kind] = tuple((m.rule_id, m.points) for m in found)
        return [
            RuleMatch(rule_id, event.id, event.occurred_at, points) for rule_id, points in rules
        ]
