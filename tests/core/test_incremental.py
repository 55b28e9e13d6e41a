"""Incremental scoring (one event at a time) equals recomputing from scratch, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.facts import EventFacts, lead_facts
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import RuleMatch, match_event, score_from_events, score_lead

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOOKS = {
    name: parse_playbook((EXAMPLES / name).read_text())
    for name in ("b2b_saas.yaml", "b2c_chairs.yaml")
}
NOW = datetime(2026, 6, 1, tzinfo=UTC)
KINDS = [
    ("page", None, "/pricing"), ("page", None, "/customers/acme"), ("page", None, "/careers"),
    ("page", None, "/chairs/aeron"), ("page", None, "/blog/1"),
    ("track", "Demo Requested", None), ("track", "Email Clicked", None),
    ("track", "Webinar Attended", None), ("track", "Unsubscribed", None),
    ("track", "Trial Started", None), ("track", "Fitting Booked", None),
    ("track", "Quiz Completed", None), ("track", "Something Else", None),
]  # fmt: skip
FACTS = lead_facts(
    {"email": "a@northwind-logistics.com", "title": "Head of Operations", "country": "DE"},
    {"domain": "northwind-logistics.com", "employees": 400, "industry": "Software"},
    "top",
)

events = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.floats(min_value=0, max_value=200, allow_nan=False),  # days before now
    ),
    max_size=40,
)


def as_events(drawn: list[tuple[tuple[str, str | None, str | None], float]]) -> list[EventFacts]:
    return [
        EventFacts(str(k), kind, NOW - timedelta(days=age), name, {"path": path} if path else {})
        for k, ((kind, name, path), age) in enumerate(drawn)
    ]


@settings(max_examples=200, deadline=None)
@given(drawn=events, book=st.sampled_from(sorted(BOOKS)))
def test_incremental_equals_batch(
    drawn: list[tuple[tuple[str, str | None, str | None], float]], book: str
) -> None:
    playbook = BOOKS[book]
    stream = as_events(drawn)
    stored: list[RuleMatch] = []
    for event in stream:  # the per-event path: match the new event, fold the stored matches
        stored.extend(match_event(playbook, event))
        incremental = score_lead(playbook, FACTS, stored, NOW)
    batch = score_from_events(playbook, FACTS, stream, NOW)
    if stream:
        assert incremental == batch
    assert score_from_events(playbook, FACTS, list(reversed(stream)), NOW) == batch


@settings(max_examples=100, deadline=None)
@given(drawn=events)
def test_contributions_sum_to_the_score(
    drawn: list[tuple[tuple[str, str | None, str | None], float]],
) -> None:
    score = score_from_events(BOOKS["b2b_saas.yaml"], FACTS, as_events(drawn), NOW)
    assert round(sum(c.points for c in score.contributions), 2) == score.total
    fit = [c.points for c in score.contributions if c.kind in ("fit", "tier")]
    assert round(sum(fit), 2) == score.fit
