"""The queue's week of activity by rule: counted by kind in SQL, it says what matching every
event says; events stored without a kind, and playbooks that read what kinds do not tell
apart, are still counted right."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from leadflow.core import queue_why
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories import events as event_repo
from leadflow.services.queue_signals import week_counts
from tests.services.test_reports import B2B, NOW

BOOK = parse_playbook(B2B.read_text())
CAMPAIGNS = parse_playbook("""
name: Reads the campaign, which an event's kind does not tell apart
engagement:
  rules:
    - {id: spring, label: Spring campaign, points: 5,
       event: {type: track, where: {field: context.campaign.name, regex: "^spring"}}}
    - {id: clicks, label: Clicked, points: 1, event: {type: track, name: Email Clicked}}
""")
WEEK = queue_why.WEEK


def history(lead_ids: list[int]) -> list[dict[str, Any]]:
    """Each lead's events around the week: its edges, the future, names in other cases."""
    rows = []
    for n, lead_id in enumerate(lead_ids):
        ages = [timedelta(0), WEEK, WEEK + timedelta(microseconds=1), -timedelta(hours=1),
                timedelta(days=2), timedelta(days=3, hours=n)]  # fmt: skip
        for i, age in enumerate(ages):
            at = NOW - age
            rows += [
                {"type": "page", "properties": {"path": "/pricing" if i % 2 else "/"}},
                {"type": "page", "properties": {"path": "/careers/ops"}},
                {"type": "track", "name": "email clicked" if n % 2 else "Email Clicked",
                 "context": {"campaign": {"name": "spring-26" if i % 3 else "fall"}}},
                {"type": "track", "name": "Demo Requested"},
                {"type": "identify", "properties": {"path": 7}},
            ]  # fmt: skip
            for j, row in enumerate(rows[-5:]):
                row.update(lead_id=lead_id, occurred_at=at, message_id=f"{lead_id}-{i}-{j}")
    return rows


def reference(session: Session, book: Playbook, lead_ids: list[int]) -> dict[int, Counter[str]]:
    """Every event of every lead matched on its own, as the core counts a week."""
    found = {}
    for lead_id, stored in event_repo.for_leads(session, lead_ids).items():
        facts = [EventFacts(str(e.id), e.type, e.occurred_at, e.name, e.properties, e.context)
                 for e in stored]  # fmt: skip
        counts = queue_why.week_counts(book, facts, NOW)
        if counts:
            found[lead_id] = counts
    return found


def kept(weeks: dict[int, Counter[str]]) -> dict[int, Counter[str]]:
    return {lead: +counts for lead, counts in weeks.items() if +counts}


@pytest.fixture
def leads(session: Session) -> list[int]:
    made = [Lead(email=f"l{n}@x.io", stage="sql") for n in range(4)]
    session.add_all(made)
    session.flush()
    ids = [lead.id for lead in made]
    event_repo.insert_many(session, history(ids[:3]))  # the fourth did nothing
    return ids


def statements(session: Session) -> list[str]:
    said: list[str] = []
    sa_event.listen(session.get_bind(), "before_cursor_execute",
                    lambda *args: said.append(args[2]))  # fmt: skip
    return said


def test_counted_by_kind_the_week_is_what_matching_every_event_says(
    session: Session, leads: list[int]
) -> None:
    said = statements(session)
    weeks = week_counts(session, BOOK, leads, NOW)
    reads = [s for s in said if "FROM events" in s]
    assert kept(weeks) == reference(session, BOOK, leads)
    assert weeks[leads[0]]["demo_request"] == 4  # now, a week ago to the microsecond, days ago
    assert leads[3] not in kept(weeks)
    assert any("count(" in s for s in reads)  # counted by kind, in SQL
    assert not any("events.context" in s for s in reads)  # no rule reads the context


def test_events_stored_without_a_kind_are_still_counted(session: Session, leads: list[int]) -> None:
    raw = [("track", "Demo Requested", {}, timedelta(hours=1), {"kind": None}),
           ("page", None, {"path": "/pricing"}, timedelta(hours=2), {"kind": None}),
           ("track", "Demo Requested", {}, timedelta(days=10), {"occurred_us": None})]  # fmt: skip
    for n, (kind, name, properties, age, unset) in enumerate(raw):
        stored = event_repo.insert(session, lead_id=leads[3], type=kind, name=name,
                                   properties=properties, occurred_at=NOW - age,
                                   message_id=f"raw-{n}")  # fmt: skip
        assert stored is not None
        # as a raw SQL insert leaves them (the model fills them in)
        session.execute(update(Event).where(Event.id == stored.id).values(**unset))
    weeks = week_counts(session, BOOK, leads, NOW)
    assert kept(weeks) == reference(session, BOOK, leads)
    assert weeks[leads[3]]["demo_request"] == 1 and weeks[leads[3]]["pricing_page"] == 1


def test_a_playbook_reading_what_kinds_do_not_tell_apart_matches_every_event(
    session: Session, leads: list[int]
) -> None:
    weeks = week_counts(session, CAMPAIGNS, leads, NOW)
    assert kept(weeks) == reference(session, CAMPAIGNS, leads)
    assert weeks[leads[0]]["spring"] == 3 and weeks[leads[0]]["clicks"] == 4


@pytest.mark.parametrize("change", ["anonymized", "deleted"])
def test_a_sample_changed_between_the_two_reads_is_not_taken_for_its_kind(
    session: Session, leads: list[int], change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction may anonymize (retention) or delete an event between the count by
    kind and the read of each kind's sample: the other events of that kind still count."""
    read = event_repo.facts_by_id

    def changed_first(db: Session, event_ids: Any, roots: Any) -> dict[int, EventFacts]:
        ids = list(event_ids)
        if change == "deleted":
            session.execute(delete(Event).where(Event.id.in_(ids)))
        else:
            session.execute(update(Event).where(Event.id.in_(ids))
                            .values(lead_id=None, properties={}, context={}))  # fmt: skip
        return read(db, ids, roots)

    monkeypatch.setattr(event_repo, "facts_by_id", changed_first)
    weeks = week_counts(session, BOOK, leads, NOW)
    monkeypatch.undo()
    assert kept(weeks) == reference(session, BOOK, leads)
    assert weeks[leads[2]]["pricing_page"] > 0
