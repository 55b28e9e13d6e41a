"""Matching once per kind of event says what matching every event says, whatever the events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.facts import EventFacts
from leadflow.core.match_memo import KINDS_KEPT, MatchMemo
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import match_event

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
EXAMPLE = parse_playbook(
    (Path(__file__).resolve().parents[2] / "examples/b2b_saas.yaml").read_text()
)
# Rules that tell 1, "1", true, null and a missing field apart, read nested context, and
# match a type and a name in any case.
FUSSY = parse_playbook("""
name: Fussy matchers
engagement:
  rules:
    - {id: one, label: One, points: 1, event: {where: {field: properties.n, equals: 1}}}
    - {id: text, label: Text, points: 2, event: {where: {field: properties.n, equals: "1"}}}
    - {id: truth, label: Truth, points: 3, event: {where: {field: properties.n, equals: true}}}
    - {id: set, label: Set, points: 4, event: {where: {field: properties.n, exists: true}}}
    - {id: unset, label: Unset, points: 5,
       event: {where: {not: {field: properties.n, exists: true}}}}
    - {id: utm, label: Utm, points: 6,
       event: {type: page, where: {field: context.campaign.name, regex: "^spring"}}}
    - {id: demo, label: Demo, points: 7, event: {type: TRACK, name: demo requested}}
""")

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["1", "0", "spring", "x"]),
    st.floats(allow_nan=False, min_value=-2, max_value=2), st.lists(st.integers(0, 1), max_size=2),
)  # fmt: skip
PROPERTIES = st.dictionaries(st.sampled_from(["n", "path", "url"]), VALUES, max_size=3)
CONTEXTS = st.one_of(
    st.just({}),
    st.builds(lambda name: {"campaign": {"name": name}}, st.sampled_from(["spring-24", "fall"])),
    st.builds(lambda name: {"campaign": name}, st.just("spring")),  # not a mapping: no match
)
EVENTS = st.builds(
    lambda n, kind, name, properties, context, age: EventFacts(
        str(n), kind, NOW - timedelta(hours=age), name, properties, context
    ),
    st.integers(0, 10**6),
    st.sampled_from(["page", "track", "Track", "identify"]),
    st.sampled_from([None, "Demo Requested", "demo requested", "Pricing"]),
    PROPERTIES,
    CONTEXTS,
    st.integers(0, 400),
)


@settings(max_examples=200)
@given(st.lists(EVENTS, max_size=30))
def test_one_memo_over_many_events_matches_as_each_event_alone(events: list[EventFacts]) -> None:
    for book in (FUSSY, EXAMPLE):
        memo = MatchMemo(book)
        for event in events:
            assert memo.matches(event) == match_event(book, event)


def test_events_of_one_kind_are_matched_once_and_keep_their_own_ids() -> None:
    memo = MatchMemo(EXAMPLE)
    views = [EventFacts(str(n), "page", NOW, None, {"path": "/pricing"}) for n in range(50)]
    found = [memo.matches(view) for view in views]
    assert len(memo._seen) == 1
    assert [m.event_id for matches in found for m in matches][:2] == ["0", "0"]
    assert {m.event_id for m in found[-1]} == {"49"}
    assert found[0] and all(len(m) == len(found[0]) for m in found)


def test_the_memory_of_kinds_is_bounded() -> None:
    memo = MatchMemo(EXAMPLE)
    for n in range(KINDS_KEPT + 10):
        event = EventFacts(str(n), "page", NOW, None, {"path": f"/blog/{n}"})
        assert memo.matches(event) == match_event(EXAMPLE, event)
        assert len(memo._seen) <= KINDS_KEPT


def test_values_that_print_alike_are_different_kinds() -> None:
    memo = MatchMemo(FUSSY)
    values: list[dict[str, object]] = [{"n": v} for v in (1, "1", True, "True", 1.0, None, [1])]
    for n, properties in enumerate([*values, {}, *reversed(values)]):
        event = EventFacts(str(n), "track", NOW, "Signed up", properties)
        assert memo.matches(event) == match_event(FUSSY, event), properties
