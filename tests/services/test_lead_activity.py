"""Each lead's latest event and latest page view (`leads.last_event_at`, `last_page_view_at`,
kept by every writer of events) equal a computation from scratch over the stored events,
after events arrive out of order through the live path (tracking calls, identities that hand
a lead its anonymous events), the bulk path (imports of historic events), sales notes, a
merge, retention and an erasure; and the reports that read them answer as the definition
over the events does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook, Retention
from leadflow.core.report_math import Cohort
from leadflow.core.segment import parse_message
from leadflow.models import Event, Lead
from leadflow.repositories import reports as queries
from leadflow.repositories import visitors
from leadflow.services import ingest, merge, privacy, sales
from leadflow.services.importing import import_events
from tests.services.test_reports import NOW, playbook, session

__all__ = ["playbook", "session"]


def _kept(session: Session) -> dict[int, tuple[Any, Any]]:
    session.flush()
    rows = session.execute(select(Lead.id, Lead.last_event_at, Lead.last_page_view_at))
    return {lead_id: (latest, page) for lead_id, latest, page in rows}


def _from_scratch(session: Session) -> dict[int, tuple[Any, Any]]:
    """The definition: the latest of each lead's events, and of its page views."""
    ids = session.scalars(select(Lead.id))
    found: dict[int, tuple[Any, Any]] = dict.fromkeys(ids, (None, None))
    for lead_id, kind, at in session.execute(
        select(Event.lead_id, Event.type, Event.occurred_at).where(Event.lead_id.is_not(None))
    ):
        latest, page = found[lead_id]
        latest = at if latest is None else max(latest, at)
        if kind == "page":
            page = at if page is None else max(page, at)
        found[lead_id] = (latest, page)
    return found


def _stale_plainly(session: Session, before: datetime) -> int:
    """Open leads created before `before` with no event since: the report's definition."""
    active = set(
        session.scalars(select(Event.lead_id).where(Event.occurred_at >= before).distinct())
    )
    return sum(
        1
        for lead in session.scalars(select(Lead))
        if lead.outcome is None
        and lead.stage not in ("customer", "disqualified")
        and lead.created_at < before
        and lead.id not in active
    )


def _messages(raw: list[dict[str, Any]]) -> list[Any]:
    return [parse_message(m, NOW) for m in raw]


def _track(book: Playbook, session: Session, raw: list[dict[str, Any]]) -> None:
    ingest.ingest(session, book, _messages(raw), source="web", now=NOW)


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def test_kept_activity_equals_the_events_after_every_writer(
    session: Session, playbook: Playbook
) -> None:
    assert _kept(session) == _from_scratch(session)  # the report fixture's own inserts
    # Live: an anonymous visitor's views (old and new, out of order), then identified: the
    # lead is handed its anonymous events; then a late event older than the latest.
    _track(playbook, session, [
        {"type": "page", "anonymousId": "v1", "messageId": "p1", "timestamp": _at(3),
         "properties": {"path": "/pricing"}},
        {"type": "page", "anonymousId": "v1", "messageId": "p2", "timestamp": _at(30),
         "properties": {"path": "/docs"}},
    ])  # fmt: skip
    _track(playbook, session, [
        {"type": "identify", "anonymousId": "v1", "messageId": "i1", "timestamp": _at(1),
         "traits": {"email": "new@y.io"}},
        {"type": "track", "userId": "b@x.io", "messageId": "t1", "event": "Email Clicked",
         "timestamp": _at(200), "context": {"traits": {"email": "b@x.io"}}},
    ])  # fmt: skip
    _track(playbook, session, [
        {"type": "track", "anonymousId": "v1", "messageId": "t2", "event": "Email Opened",
         "timestamp": _at(10)},
    ])  # fmt: skip
    newcomer = session.scalar(select(Lead).where(Lead.email == "new@y.io"))
    assert newcomer is not None and newcomer.last_page_view_at is not None
    assert _kept(session) == _from_scratch(session)
    # Bulk: an import of historic events, for known and new people.
    rows = [
        {"email": "c@x.io", "type": "page", "timestamp": _at(400), "properties": {"path": "/"}},
        {"email": "c@x.io", "type": "track", "name": "Webinar Attended", "timestamp": _at(5)},
        {"email": "fresh@z.io", "type": "page", "timestamp": _at(50), "properties": {}},
    ]
    import_events(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    assert _kept(session) == _from_scratch(session)
    lead = session.scalar(select(Lead).where(Lead.email == "e@x.io"))
    assert lead is not None
    sales.add_note(session, lead, actor="ana", text="called", now=NOW)
    assert _kept(session) == _from_scratch(session)
    # A merge hands the kept lead the other's events (and deletes the other).
    merge.merge_leads(session, playbook, "c@x.io", "new@y.io", actor="ana", now=NOW)
    assert _kept(session) == _from_scratch(session)
    # Retention strips old events of who they were: their leads lose them.
    short = playbook.model_copy(update={"retention": Retention(events_days=20)})
    assert privacy.apply_retention(session, short, NOW) > 0
    assert _kept(session) == _from_scratch(session)
    # An erasure deletes the person's events and those sent under their anonymous id, even
    # one another lead holds (b's latest, sent as b with c's anonymous id).
    _track(playbook, session, [
        {"type": "page", "userId": "b@x.io", "anonymousId": "v1", "messageId": "t3",
         "timestamp": _at(0.5), "properties": {"path": "/"}},
    ])  # fmt: skip
    latest_of_b = select(Lead.last_event_at).where(Lead.email == "b@x.io")
    assert session.scalar(latest_of_b) == NOW - timedelta(days=0.5)
    privacy.erase(session, "c@x.io", actor="dpo", now=NOW)
    assert _kept(session) == _from_scratch(session)
    assert session.scalar(latest_of_b) != NOW - timedelta(days=0.5)


def test_stale_and_visiting_leads_answer_as_the_events_do(
    session: Session, playbook: Playbook
) -> None:
    _track(playbook, session, [
        {"type": "page", "userId": f"{e}@x.io", "messageId": f"v{n}", "timestamp": _at(n * 11),
         "properties": {"path": "/pricing"}, "context": {"traits": {"email": f"{e}@x.io"}}}
        for n, e in enumerate(["a", "b", "c", "d", "e", "g"])
    ])  # fmt: skip
    for days in (1, 15, 40, 70, 200):
        before = NOW - timedelta(days=days)
        count, _ = queries.stale(session, Cohort(), before)
        assert count == _stale_plainly(session, before), days
    windows = [(NOW - timedelta(days=d), NOW - timedelta(days=e)) for d, e in
               [(100, 0), (30, 20), (60, 25), (12, 11), (5, 6)]]  # fmt: skip
    counted = visitors.visitors_in(session, windows)
    for (start, end), n in zip(windows, counted, strict=True):
        viewers = select(Event.lead_id, Event.anonymous_id).where(
            Event.type == "page", Event.occurred_at >= start, Event.occurred_at < end
        )
        seen = {lead if lead is not None else f"a:{anon}" for lead, anon in
                session.execute(viewers) if lead is not None or anon is not None}  # fmt: skip
        assert n == len(seen), (start, end)
    assert any(counted) and not all(counted)
