"""What closed leads did before closing (`closed_content`, what they consumed, and
`won_touches`, won leads' campaign touches: both kept by every writer of events and
outcomes) equals a computation from scratch over the stored events and leads,
after each path that can change it: events for closed leads through the live path (before
and after their close, an identity that hands a closed lead its anonymous views), the bulk
path (an import of historic events), a close and a re-close by hand, a merge that makes an
open lead closed (and older), retention and an erasure; and the content report's count read
from it answers as the count over the events does, for cohorts of every kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.lifecycle import Action
from leadflow.core.playbook import Playbook, Retention
from leadflow.core.report_math import Cohort
from leadflow.core.segment import parse_message
from leadflow.models import ClosedContent, Event, Lead, WonTouches
from leadflow.repositories import closed_content, closed_rollups, won_touches
from leadflow.services import ingest, lifecycle, merge, privacy, sales
from leadflow.services.importing import import_events
from tests.services.test_reports import NOW, day, playbook, session

__all__ = ["playbook", "session"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

COHORTS = [
    Cohort(),
    Cohort(since=day(9, 3)),
    Cohort(until=day(9, 3)),
    Cohort(since=day(9, 2, 12), until=day(10, 1)),
    Cohort(source="linkedin"),
    Cohort(campaign="spring", since=day(9, 1)),
    Cohort(tier="top"),
]


def _kept(session: Session) -> set[tuple[Any, ...]]:
    session.flush()
    rows = session.execute(
        select(ClosedContent.lead_id, ClosedContent.kind, ClosedContent.item,
               ClosedContent.outcome, ClosedContent.created_at)
    )  # fmt: skip
    return {tuple(row) for row in rows}


def _from_scratch(session: Session) -> set[tuple[Any, ...]]:
    """The definition, in Python: each item a won or lost lead's own (not sales') page views
    and tracked events named, at or before its closing time."""
    session.flush()
    leads = {lead.id: lead for lead in session.scalars(select(Lead))}
    found = set()
    for event in session.scalars(select(Event).where(Event.lead_id.is_not(None))):
        lead = leads[event.lead_id]
        if lead.outcome not in ("won", "lost") or lead.closed_at is None:
            continue
        if event.occurred_at > lead.closed_at or event.source in ("sales", "note"):
            continue
        if event.type == "page":
            kind, item = "page", event.path or "?"
        elif event.type == "track":
            kind, item = "event", event.name or event.type
        else:
            continue
        found.add((lead.id, kind, item, lead.outcome, lead.created_at))
    return found


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _touches_kept(session: Session) -> dict[int, list[tuple[int, str]]]:
    session.flush()
    rows = session.execute(select(WonTouches.lead_id, WonTouches.times, WonTouches.campaigns))
    return {
        lead_id: list(zip(json.loads(times), json.loads(campaigns), strict=True))
        for lead_id, times, campaigns in rows
    }


def _touches_from_scratch(session: Session) -> dict[int, list[tuple[int, str]]]:
    """The definition, in Python: a won lead's events naming a campaign up to its win, by
    time, then campaign."""
    leads = {lead.id: lead for lead in session.scalars(select(Lead))}
    found: dict[int, list[tuple[int, str]]] = {}
    for event in session.scalars(select(Event).where(Event.lead_id.is_not(None))):
        lead = leads[event.lead_id]
        if lead.outcome != "won" or lead.closed_at is None or event.campaign is None:
            continue
        if event.occurred_at <= lead.closed_at:
            found.setdefault(lead.id, []).append((_micros(event.occurred_at), event.campaign))
    return {lead_id: sorted(path) for lead_id, path in found.items()}


def _as_set(touches: won_touches.Touches) -> list[tuple[int, int, str]]:
    return sorted(zip(touches.lead_ids.tolist(), touches.times.tolist(), touches.campaigns,
                      strict=True))  # fmt: skip


def _agrees(session: Session) -> None:
    assert _kept(session) == _from_scratch(session)
    assert _touches_kept(session) == _touches_from_scratch(session)
    for cohort in COHORTS:
        kept = closed_content.content_by_outcome(session, cohort)
        assert kept == closed_content.content_from_events(session, cohort), cohort
        touches = won_touches.event_touches(session, cohort)
        from_events = won_touches.touches_from_events(session, cohort)
        assert _as_set(touches) == _as_set(from_events), cohort


def _track(book: Playbook, session: Session, raw: list[dict[str, Any]]) -> None:
    messages = [parse_message(m, NOW) for m in raw]
    ingest.ingest(session, book, messages, source="web", now=NOW)


def _lead(session: Session, email: str) -> Lead:
    lead = session.scalar(select(Lead).where(Lead.email == email))
    assert lead is not None
    return lead


def test_kept_content_equals_the_events_after_every_writer(
    session: Session, playbook: Playbook
) -> None:
    assert _kept(session)  # the report fixture's closed leads consumed something
    assert _touches_kept(session)  # and its won leads were touched by campaigns
    _agrees(session)
    # Live: a won lead (closed 2026-09-20) views a page before its close, arriving late, and
    # one after it; an anonymous visitor's view, then identified as a lost lead.
    _track(playbook, session, [
        {"type": "page", "userId": "a@x.io", "messageId": "w1", "timestamp": day(9, 12).isoformat(),
         "properties": {"path": "/docs"}, "context": {"traits": {"email": "a@x.io"}}},
        {"type": "page", "userId": "a@x.io", "messageId": "w2", "timestamp": day(10, 2).isoformat(),
         "properties": {"path": "/after"}, "context": {"traits": {"email": "a@x.io"}}},
        {"type": "page", "anonymousId": "v9", "messageId": "w3",
         "timestamp": day(9, 9).isoformat(), "properties": {"path": "/case-studies"}},
    ])  # fmt: skip
    _track(playbook, session, [
        {"type": "identify", "anonymousId": "v9", "userId": "e@x.io", "messageId": "w4",
         "timestamp": day(11, 1).isoformat(), "traits": {"email": "e@x.io"}},
    ])  # fmt: skip
    assert (_lead(session, "a@x.io").id, "page", "/docs") in {r[:3] for r in _kept(session)}
    _agrees(session)
    # Bulk: an import of historic events for a won lead (closed 2026-09-30).
    rows = [
        {"email": "c@x.io", "type": "track", "name": "Webinar Attended",
         "timestamp": day(9, 25).isoformat()},
        {"email": "c@x.io", "type": "page", "timestamp": day(10, 5).isoformat(),
         "properties": {"path": "/late"}},
    ]  # fmt: skip
    import_events(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    _agrees(session)
    # Closed by hand: an open lead with views is won; a lost one is won on a second try.
    _track(playbook, session, [
        {"type": "page", "userId": "g@x.io", "messageId": "w5",
         "timestamp": (NOW - timedelta(days=3)).isoformat(), "properties": {"path": "/pricing"},
         "context": {"traits": {"email": "g@x.io"}}},
    ])  # fmt: skip
    won = _lead(session, "g@x.io")
    lifecycle.act(session, won, Action.CONVERT, actor="ana", reason="", now=NOW)
    lifecycle.act(session, won, Action.CLOSE_WON, actor="ana", reason="", now=NOW, amount=5.0)
    _agrees(session)
    again = _lead(session, "e@x.io")
    for action in (Action.ACCEPT, Action.CONVERT, Action.CLOSE_WON):
        lifecycle.act(session, again, action, actor="ana", reason="", now=NOW)
    assert again.outcome == "won"
    _agrees(session)
    sales.add_note(session, again, actor="ana", text="signed", now=NOW - timedelta(days=1))
    _agrees(session)
    # A merge: the open lead kept takes the closed duplicate's outcome, close and creation.
    _track(playbook, session, [
        {"type": "page", "userId": "f@y.io", "messageId": "w6",
         "timestamp": day(9, 1).isoformat(), "properties": {"path": "/merged"},
         "context": {"traits": {"email": "f@y.io"}}},
    ])  # fmt: skip
    merge.merge_leads(session, playbook, "f@y.io", "c@x.io", actor="ana", now=NOW)
    assert _lead(session, "f@y.io").outcome == "won"
    _agrees(session)
    # Written directly (an import, a script): a won lead's closing time moves earlier, then
    # goes; an open lead is marked lost; a lead is created closed, then given events.
    kept = _lead(session, "f@y.io")
    kept.closed_at = day(9, 12)
    _agrees(session)
    kept.closed_at = None
    _agrees(session)
    marked = _lead(session, "f at x.io")
    marked.outcome, marked.closed_at = "lost", NOW
    _agrees(session)
    session.add(Lead(email="h@x.io", stage="nurture", outcome="won", closed_at=NOW,
                     created_at=day(8, 1), campaign="spring"))  # fmt: skip
    session.flush()
    import_events(session, enumerate([
        {"email": "h@x.io", "type": "page", "timestamp": day(9, 1).isoformat(),
         "properties": {"path": "/imported"}, "context": {"campaign": {"name": "fall"}}},
    ], 2), skip_invalid=False, now=NOW)  # fmt: skip
    _agrees(session)
    # Retention strips old events of who they were; an erasure deletes a closed lead.
    short = playbook.model_copy(update={"retention": Retention(events_days=60)})
    assert privacy.apply_retention(session, short, NOW) > 0
    _agrees(session)
    privacy.erase(session, "a@x.io", actor="dpo", now=NOW)
    _agrees(session)
    assert _kept(session)


def test_backfill_equals_the_kept_rows(session: Session) -> None:
    kept, touches = _kept(session), _touches_kept(session)
    closed_rollups.backfill_all(session)
    assert _kept(session) == kept == _from_scratch(session)
    assert _touches_kept(session) == touches == _touches_from_scratch(session)
