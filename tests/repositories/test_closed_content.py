"""What closed leads did before closing (`closed_content`, what they consumed, and
`won_touches`, won leads' campaign touches: both kept by every writer of events and
outcomes) equals a computation from scratch over the stored events and leads,
after each path that can change it: events for closed leads through the live path (before
and after their close, an identity that hands a closed lead its anonymous views), the bulk
path (an import of historic events), a close and a re-close by hand, a merge that makes an
open lead closed (and older), retention and an erasure; and the content report's count read
from it answers as the count over the events does, for cohorts of every kind. The same for
`won_credit` (each won lead's credit per campaign under every attribution model), kept from
the touches, and also after edits of a won lead's amount or acquiring campaign and moves
into opportunity (a key moment of the W-shaped model)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.attribution import DEFAULT_HALF_LIFE_DAYS, MODELS
from leadflow.core.attribution_credit import credit, won_paths
from leadflow.core.lifecycle import Action
from leadflow.core.playbook import Playbook, Retention
from leadflow.core.report_math import Cohort
from leadflow.core.segment import parse_message
from leadflow.models import ClosedContent, Event, Lead, WonCredit, WonTouches
from leadflow.models.db import make_engine, make_session_factory
from leadflow.repositories import (
    attribution,
    closed_content,
    closed_rollups,
    events,
    stage_changes,
    won_credit,
    won_touches,
)
from leadflow.services import ingest, lifecycle, merge, privacy, sales
from leadflow.services.importing import import_events
from leadflow.services.reports import revenue
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


def _credit_kept(session: Session) -> set[tuple[Any, ...]]:
    session.flush()
    models = [getattr(WonCredit, model) for model in MODELS]
    return {tuple(r) for r in session.execute(select(WonCredit.lead_id, WonCredit.campaign,
                                                     *models))}  # fmt: skip


def _credit_from_scratch(session: Session) -> set[tuple[Any, ...]]:
    """Every won lead's credit computed now from its events (not the kept touches)."""
    won = attribution.won_leads(session, attribution.of_cohort_won(Cohort()))
    touches = won_touches.touches_from_events(session, Cohort())
    paths, campaigns = won_paths(
        won.ids.tolist(), won.created, won.opportunity, won.won, won.amounts, won.campaigns,
        (touches.lead_ids, touches.campaigns, touches.times),
    )  # fmt: skip
    found = credit(paths, MODELS, DEFAULT_HALF_LIFE_DAYS)
    return {
        (int(won.ids[lead]), campaigns[code], *(int(found.micros[m][k]) for m in MODELS))
        for k, (lead, code) in enumerate(zip(found.leads, found.codes, strict=True))
    }


def _as_set(touches: won_touches.Touches) -> list[tuple[int, int, str]]:
    return sorted(zip(touches.lead_ids.tolist(), touches.times.tolist(), touches.campaigns,
                      strict=True))  # fmt: skip


def _agrees(session: Session) -> None:
    assert _kept(session) == _from_scratch(session)
    assert _touches_kept(session) == _touches_from_scratch(session)
    assert _credit_kept(session) == _credit_from_scratch(session)
    for cohort in COHORTS:
        summed = won_credit.by_campaign(session, cohort, MODELS)
        assert summed == revenue._weighed(session, cohort, MODELS, DEFAULT_HALF_LIFE_DAYS)
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


def test_kept_credit_follows_a_won_leads_amount_campaign_and_opportunity(
    session: Session,
) -> None:
    assert _credit_kept(session)
    _agrees(session)
    won = _lead(session, "a@x.io")  # won, acquired by spring, an opportunity on 09-10
    won.outcome_amount = 2500.0
    _agrees(session)
    won.campaign = "summer"
    _agrees(session)
    # A later move into opportunity (the ORM's path, then the bulk one) moves W's key touch.
    stage_changes.record(session, lead_id=won.id, from_stage="sql", to_stage="opportunity",
                         at=day(9, 16), reason="test", actor="ana")  # fmt: skip
    _agrees(session)
    other = _lead(session, "c@x.io")
    stage_changes.record_many(session, [
        {"lead_id": other.id, "from_stage": "sql", "to_stage": "opportunity", "at": day(9, 4),
         "reason": "test", "actor": "ana", "previous_entered_at": None},
    ])  # fmt: skip
    _agrees(session)
    won.campaign = None
    _agrees(session)


def test_backfill_equals_the_kept_rows(session: Session) -> None:
    kept, touches = _kept(session), _touches_kept(session)
    credit_kept = _credit_kept(session)
    closed_rollups.backfill_all(session)
    assert _kept(session) == kept == _from_scratch(session)
    assert _touches_kept(session) == touches == _touches_from_scratch(session)
    assert _credit_kept(session) == credit_kept == _credit_from_scratch(session)


def test_two_transactions_refreshing_one_won_lead_keep_the_later_ones_touches(
    postgresql_url: str, migrate: Any
) -> None:
    """PostgreSQL, two writers at once: the first refreshes a won lead's touches and has not
    committed; the second adds a touch, whose insert refreshes them (it waits for the first's
    rows, then reads every committed touch). The row kept is the second's, with both. (The
    touches are identify calls naming a campaign: no content, so `closed_content`'s delete,
    which runs first, has no row of the first's to wait for.)"""
    migrate(postgresql_url)
    factory = make_session_factory(make_engine(postgresql_url))
    won_at = NOW - timedelta(days=1)
    with factory() as setup, setup.begin():
        lead = Lead(email="won@example.com", outcome="won", closed_at=won_at,
                    created_at=NOW - timedelta(days=30))  # fmt: skip
        setup.add(lead)
        setup.flush()
        lead_id = lead.id
        events.insert(setup, lead_id=lead_id, message_id="m1", type="identify", name=None,
                      properties={"campaign": "spring"},
                      occurred_at=NOW - timedelta(days=5))  # fmt: skip
    first, second = factory(), factory()
    first.begin()
    closed_rollups.refresh(first, [lead_id])  # deletes and writes the row; not committed
    second.begin()

    def add_a_touch() -> None:  # the event's insert refreshes the lead's roll-ups
        events.insert(second, lead_id=lead_id, message_id="m2", type="identify", name=None,
                      properties={"campaign": "summer"},
                      occurred_at=NOW - timedelta(days=3))  # fmt: skip

    later = threading.Thread(target=add_a_touch)
    later.start()
    later.join(0.5)
    assert later.is_alive(), "the second refresh waits for the first's rows"
    first.commit()
    later.join(10)
    second.commit()
    with factory() as check:
        kept = check.execute(select(WonTouches.campaigns).where(WonTouches.lead_id == lead_id))
        assert json.loads(kept.scalar_one()) == ["spring", "summer"]
    first.close()
    second.close()
