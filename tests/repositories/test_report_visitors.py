"""The plan's visitors: distinct leads and anonymous ids with a page view in each window,
counted from the indexes (leads one by one, anonymous ids from their partial index) and
checked against a plain count of the stored events."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models.event import Event
from leadflow.repositories import events, leads, visitors
from tests.repositories.conftest import NOW


def _view(message_id: str, at: datetime, lead_id: int | None, anonymous: str | None,
          kind: str = "page") -> dict[str, Any]:  # fmt: skip
    return {
        "lead_id": lead_id, "anonymous_id": anonymous, "message_id": message_id, "type": kind,
        "name": None if kind == "page" else "Clicked", "properties": {"path": "/pricing"},
        "context": {}, "occurred_at": at, "received_at": at,
    }  # fmt: skip


def _plainly(session: Session, start: datetime, end: datetime) -> int:
    """Visitors by reading every event: the definition the indexed count must keep."""
    seen = set()
    for lead_id, anonymous, kind, at in session.execute(
        select(Event.lead_id, Event.anonymous_id, Event.type, Event.occurred_at)
    ):
        if kind == "page" and start <= at < end:
            if lead_id is not None:
                seen.add(("lead", lead_id))
            elif anonymous is not None:
                seen.add(("anonymous", anonymous))
    return len(seen)


def test_visitors_in_windows_match_a_plain_count(session: Session) -> None:
    rng = random.Random(7)
    ids = [leads.create(session, email=f"p{n}@example.com").id for n in range(6)]
    rows = []
    for n in range(300):
        at = NOW - timedelta(hours=rng.uniform(0, 24 * 60))
        known = rng.random() < 0.3
        rows.append(_view(
            f"m-{n}", at, rng.choice(ids) if known else None,
            f"anon-{rng.randrange(40)}" if not known or rng.random() < 0.5 else None,
            kind=rng.choice(["page", "page", "track"]),
        ))  # fmt: skip
    # On the edges: a view exactly at a window's start counts, one exactly at its end not.
    edge = NOW - timedelta(days=10)
    rows += [
        _view("edge-1", edge, None, "anon-edge-start"),
        _view("edge-2", NOW, ids[0], None),
        _view("edge-3", NOW, None, "anon-edge-end"),
        _view("none", edge, None, None),
    ]
    events.insert_many(session, rows)
    windows = [
        (NOW - timedelta(days=60), NOW),
        (edge, NOW),
        (edge, edge),
        (NOW, NOW + timedelta(1)),
    ]
    expected = [_plainly(session, start, end) for start, end in windows]
    assert visitors.visitors_in(session, windows) == expected
    assert expected[1] > 0 and expected[2] == 0 and expected[3] == 2
    assert [visitors.visitors(session, *w) for w in windows] == expected


def test_visitors_by_the_day_of_their_latest_view_add_up_to_each_window(session: Session) -> None:
    """A window from a midnight to `until` holds exactly the visitors whose latest view before
    `until` falls in it: the worker's snapshot answers the plan's windows by summing days."""
    rng = random.Random(11)
    ids = [leads.create(session, email=f"d{n}@example.com").id for n in range(8)]
    rows = []
    for n in range(400):
        at = NOW - timedelta(hours=rng.uniform(-30, 24 * 40))  # some after `until`
        known = rng.random() < 0.3
        rows.append(_view(
            f"d-{n}", at, rng.choice(ids) if known else None,
            None if known else f"anon-{rng.randrange(60)}",
            kind=rng.choice(["page", "page", "track"]),
        ))  # fmt: skip
    rows.append(_view("at-until", NOW, None, "anon-at-until"))  # not before `until`
    events.insert_many(session, rows)
    days = visitors.latest_views_by_day(session, NOW)
    for back in (0, 1, 5, 20, 45):
        start = (NOW - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
        summed = sum(n for day, n in days.items() if day >= start.date().isoformat())
        assert summed == _plainly(session, start, NOW), back
    assert sum(days.values()) == _plainly(session, NOW - timedelta(days=999), NOW) > 0
