"""Tracking calls that wait in one turn are stored as one batch (`ingest_parts`): each call
gets the answer it would get alone, and the leads end as storing the calls one after another
leaves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.playbook_text import parse_playbook
from leadflow.core.segment import Message, parse_message
from leadflow.models import Event, Lead
from leadflow.models.identity import Identity
from leadflow.services import ingest

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
BOOK = parse_playbook(
    (Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml").read_text()
)


def _message(kind: str, message_id: str, minutes: int, **fields: Any) -> Message:
    at = (NOW - timedelta(minutes=minutes)).isoformat()
    return parse_message({"type": kind, "messageId": message_id, "timestamp": at, **fields}, NOW)


def _calls() -> list[list[Message]]:
    """Four calls: an anonymous visitor, the identify that names them (and a message id the
    first call sent too), a known customer's e-mail as userId beside a do-not-track person's
    events, and a replay of a message stored in an earlier transaction."""
    pricing = {"properties": {"path": "/pricing"}}
    return [
        [
            _message("page", "m1", 30, anonymousId="a1", **pricing),
            _message("page", "m2", 29, anonymousId="a1", **pricing),
            _message("track", "m3", 28, anonymousId="a2", event="Webinar Attended"),
            _message(
                "identify",
                "m4",
                27,
                anonymousId="a3",
                traits={"email": "quiet@initech.net", "do_not_track": True},
            ),
        ],
        [
            _message(
                "identify",
                "m5",
                20,
                anonymousId="a1",
                traits={"email": "dana@acme.com", "title": "VP Sales"},
            ),
            _message("page", "m1", 30, anonymousId="a1", **pricing),  # the same id again
        ],
        [
            _message("track", "m6", 10, userId="lee@globex.io", event="Demo Requested"),
            _message("page", "m7", 9, anonymousId="a3", **pricing),  # do-not-track: suppressed
            _message("page", "m8", 8, anonymousId="a1", **pricing),
        ],
        [_message("page", "m0", 40, anonymousId="a1", **pricing)],  # stored before
    ]


def _prepare(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        earlier = [_message("page", "m0", 40, anonymousId="a1", properties={"path": "/"})]
        ingest.ingest(session, BOOK, earlier, source="key-1", now=NOW)


def _state(session: Session) -> dict[str, Any]:
    session.flush()
    leads = session.execute(
        select(
            Lead.email, Lead.total, Lead.engagement, Lead.stage, Lead.grade, Lead.do_not_track
        ).order_by(Lead.email)
    ).all()
    events = session.execute(
        select(Event.message_id, Lead.email)
        .outerjoin(Lead, Lead.id == Event.lead_id)
        .order_by(Event.message_id)
    ).all()
    links = session.execute(
        select(Identity.anonymous_id, Lead.email)
        .join(Lead, Lead.id == Identity.lead_id)
        .order_by(Identity.anonymous_id)
    ).all()
    return {"leads": leads, "events": events, "links": links}


def _answer(result: ingest.IngestResult) -> tuple[int, int, int]:
    return result.stored, result.duplicates, result.suppressed


def _store(factory: sessionmaker[Session], together: bool) -> tuple[list[Any], dict[str, Any]]:
    """Each call's answer and what the database holds after; rolled back after reading."""
    with factory() as session:
        session.begin()
        if together:
            results = ingest.ingest_parts(session, BOOK, _calls(), source="key-1", now=NOW)
        else:
            results = [
                ingest.ingest(session, BOOK, call, source="key-1", now=NOW) for call in _calls()
            ]
        state = _state(session)
        session.rollback()
    return [_answer(r) for r in results], state


def test_calls_stored_together_answer_and_end_as_stored_one_by_one(
    sessions: sessionmaker[Session],
) -> None:
    _prepare(sessions)
    answers, merged = _store(sessions, together=True)
    # (stored, duplicates, suppressed): a do-not-track person's identify and page view are
    # acknowledged, not stored; a message id sent before (in this turn or earlier) once.
    assert answers == [(3, 0, 1), (1, 1, 0), (2, 0, 1), (0, 1, 0)]
    assert merged["events"][0] == ("m0", "dana@acme.com")  # the earlier visit, now hers
    assert [m for m, _ in merged["events"]] == ["m0", "m1", "m2", "m3", "m5", "m6", "m8"]
    emails = [row[0] for row in merged["leads"]]
    assert emails == ["dana@acme.com", "lee@globex.io", "quiet@initech.net"]
    assert (answers, merged) == _store(sessions, together=False)


def _replays_of_dropped() -> list[list[Message]]:
    """A do-not-track person's page view dropped in an earlier transaction, replayed alone and
    beside a new one of theirs, and the new one again in a third call of the same turn."""
    pricing = {"properties": {"path": "/pricing"}}
    return [
        [_message("page", "q1", 20, anonymousId="a3", **pricing)],
        [
            _message("page", "q1", 20, anonymousId="a3", **pricing),
            _message("page", "q2", 10, anonymousId="a3", **pricing),
        ],
        [_message("page", "q2", 10, anonymousId="a3", **pricing)],
    ]


def test_a_message_dropped_before_is_a_duplicate_when_replayed_together_or_alone(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        quiet = {"email": "quiet@initech.net", "do_not_track": True}
        first = [
            _message("identify", "q0", 30, anonymousId="a3", traits=quiet),
            _message("page", "q1", 20, anonymousId="a3", properties={"path": "/pricing"}),
        ]
        assert _answer(ingest.ingest(session, BOOK, first, source="key-1", now=NOW)) == (0, 0, 2)
    answers = {}
    for together in (True, False):
        with sessions() as session:
            session.begin()
            calls = _replays_of_dropped()
            if together:
                results = ingest.ingest_parts(session, BOOK, calls, source="key-1", now=NOW)
            else:
                results = [ingest.ingest(session, BOOK, c, source="key-1", now=NOW) for c in calls]
            answers[together] = [_answer(r) for r in results]
            assert session.scalars(select(Event.message_id)).all() == []
            session.rollback()
    # Before: q1 was dropped afresh each time, (0, 0, 1), unlike any stored message replayed.
    assert answers[True] == answers[False] == [(0, 1, 0), (0, 1, 1), (0, 1, 0)]
