"""The team's notes and touches in words: one definition for the lead page and `leads show`."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.core.team_events import NOTE, NOTE_SOURCE, TOUCH, TOUCH_SOURCE, team_words

TOUCH_SAID = {
    "channel": "meeting",
    "text": "Walked through the pilot",
    "actor": "ana@x.io",
    "questions": ["Do you support SSO?", "EU hosting?"],
    "objections": ["price"],
}


def test_a_touch_says_its_channel_text_questions_objections_and_who() -> None:
    words = team_words(TOUCH, TOUCH_SOURCE, TOUCH_SAID)
    assert words is not None
    assert (words.what, words.by) == ("Meeting logged", "ana@x.io")
    said = (
        "Walked through the pilot — questions: Do you support SSO?, EU hosting? — objections: price"
    )
    assert words.said == said
    assert words.line() == f"meeting — {said} (by ana@x.io)"  # as `leads show` tells it


def test_a_note_says_its_text_and_who() -> None:
    words = team_words(NOTE, NOTE_SOURCE, {"text": "Budget opens in Q3", "actor": "mo@x.io"})
    assert words is not None
    assert (words.what, words.said, words.by) == ("Note", "Budget opens in Q3", "mo@x.io")
    assert words.line() == "note: Budget opens in Q3 (by mo@x.io)"


@pytest.mark.parametrize(
    ("properties", "line"),
    [
        ({}, "touch (by ?)"),  # no channel, no text, no author
        ({"channel": "email", "questions": []}, "email (by ?)"),
        # Lists of anything, and a string where a list belongs (ignored, not spelt letter by
        # letter): `leads show` joined them as they came, and failed on a number.
        ({"channel": "call", "text": 12, "questions": [1, "b"], "objections": "price"},
         "call — 12 — questions: 1, b (by ?)"),
    ],
)  # fmt: skip
def test_whatever_a_touch_holds_it_is_told_without_failing(
    properties: dict[str, Any], line: str
) -> None:
    words = team_words(TOUCH, TOUCH_SOURCE, properties)
    assert words is not None and words.line() == line


@pytest.mark.parametrize(
    ("name", "source"),
    [(NOTE, "segment"), (TOUCH, "import"), ("Page Viewed", TOUCH_SOURCE), (None, None)],
)
def test_an_event_the_team_did_not_write_has_no_words(name: str | None, source: str | None) -> None:
    """Anybody holding the public write key can name an event as the team's."""
    assert team_words(name, source, {"text": "x", "actor": "max@x.io"}) is None
