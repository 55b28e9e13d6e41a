"""Every path that makes or re-keys a lead by e-mail beside a merge that folds that address
into another lead (several server processes on PostgreSQL; SQLite has one writer at a time).

The merge runs first and holds its transaction open; the creator starts and waits (on
PostgreSQL until it is seen waiting for a lock); then the merge commits. A creator that took
the address's claim waited for the merge before it looked the address up, so it finds the
lead kept. One that did not waited only on the duplicate's row, which the merge deleted: its
insert then went through and made the duplicate again, a second lead for one person.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from leadflow.api.group_commit import one_transaction
from leadflow.core.errors import Conflict
from leadflow.core.segment import parse_message
from leadflow.models import Event, Lead
from leadflow.models.identity import Identity
from leadflow.services import importing, ingest, lead_edits, merge, privacy
from leadflow.services.files import Row
from tests.services.test_concurrent_writers import BOOK, NOW, PATIENT

KEEP, DUPLICATE = "k@company.com", "d@company.com"


def _track(session: Session) -> object:
    """A track (no identify) whose user id is the merged address."""
    raw = {"type": "track", "event": "Signed In", "userId": DUPLICATE, "messageId": "t-1"}
    return ingest.ingest(session, BOOK, [parse_message(raw, NOW)], source="web", now=NOW)


def _track_in_context(session: Session) -> object:
    """A page view of a new visitor carrying the merged address in its context's traits."""
    raw = {"type": "page", "anonymousId": "a-1", "messageId": "p-1",
           "context": {"traits": {"email": DUPLICATE.upper()}}}  # fmt: skip
    return ingest.ingest(session, BOOK, [parse_message(raw, NOW)], source="web", now=NOW)


def _identify(session: Session) -> object:
    raw = {"type": "identify", "userId": "u-1", "messageId": "i-1",
           "traits": {"email": DUPLICATE, "title": "VP Sales"}}  # fmt: skip
    return ingest.ingest(session, BOOK, [parse_message(raw, NOW)], source="web", now=NOW)


def _create(session: Session) -> object:
    """`POST /api/leads` with the merged address: 409, it names the lead kept."""
    return lead_edits.create_lead(session, BOOK, {"email": DUPLICATE, "title": "CTO"}, now=NOW)


def _import_leads(session: Session) -> object:
    """A row that changes the merged lead (one that changes nothing writes nothing)."""
    rows: list[Row] = [(2, {"email": DUPLICATE, "title": "VP Sales"})]
    return importing.import_leads(session, rows, skip_invalid=False, now=NOW)


def _import_many_leads(session: Session) -> object:
    """An import too big to claim its addresses one by one (`claims.ONE_BY_ONE`)."""
    rows: list[Row] = [(n + 2, {"email": f"p{n}@other{n}.com"}) for n in range(600)]
    rows.append((602, {"email": DUPLICATE, "title": "VP Sales"}))
    return importing.import_leads(session, rows, skip_invalid=False, now=NOW)


def _import_events(session: Session) -> object:
    moment = (NOW - timedelta(hours=1)).isoformat()
    rows: list[Row] = [(2, {"email": DUPLICATE, "type": "track", "name": "Webinar",
                            "timestamp": moment})]  # fmt: skip
    return importing.import_events(session, rows, skip_invalid=False, now=NOW)


# Each creator and what it leaves on the lead kept: its title, or its event.
CREATORS = {
    "identify": (_identify, "title"),
    "track with the address as user id": (_track, "event"),
    "page view with the address in context": (_track_in_context, "event"),
    "POST /api/leads": (_create, "refused"),
    "import leads": (_import_leads, "title"),
    "import leads, many rows": (_import_many_leads, "title"),
    "import events": (_import_events, "event"),
}
WRITERS = {name: creator for name, creator in CREATORS.items() if creator[1] != "refused"}


def _known(sessions: sessionmaker[Session]) -> None:
    rows: list[Row] = [(2, {"email": KEEP}), (3, {"email": DUPLICATE, "title": "CTO"})]
    one_transaction(
        sessions, lambda s: importing.import_leads(s, rows, skip_invalid=False, now=NOW)
    )


def _seen_waiting(sessions: sessionmaker[Session], merging: Session) -> None:
    """Until another transaction than the merge's waits for a lock (PostgreSQL only: there a
    creator that started would run up to its first wait on the merge)."""
    if merging.get_bind().dialect.name != "postgresql":
        return  # SQLite: the creator cannot begin writing before the merge commits
    mine = merging.scalar(text("SELECT pg_backend_pid()"))
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> :mine"
    )
    deadline = time.monotonic() + 60
    with sessions() as watcher:
        while not watcher.scalar(waiting, {"mine": mine}):
            assert time.monotonic() < deadline, "the creator never waited for the merge"
            time.sleep(0.01)
            watcher.rollback()


def _while_held(
    sessions: sessionmaker[Session],
    first: Callable[[Session], object],
    second: Callable[[Session], object],
) -> list[BaseException]:
    """Run `second` while what `first` wrote is not committed yet; what `second` raised."""
    return held_while(sessions, first, lambda: one_transaction(sessions, second, options=PATIENT))


def held_while(
    sessions: sessionmaker[Session], first: Callable[[Session], object], run: Callable[[], object]
) -> list[BaseException]:
    """Call `run` in a thread while what `first` wrote is not committed yet, until it waits
    for a lock (PostgreSQL); then commit, and what `run` raised."""
    errors: list[BaseException] = []

    def running() -> None:
        try:
            run()
        except BaseException as exc:
            errors.append(exc)

    with sessions() as held:
        first(held)
        thread = threading.Thread(target=running)
        thread.start()
        try:
            _seen_waiting(sessions, held)
        finally:
            held.commit()
            thread.join(timeout=120)
    return errors


def _merge(session: Session) -> object:
    return merge.merge_leads(session, BOOK, KEEP, DUPLICATE, actor="ana", now=NOW)


def _beside_a_merge(
    sessions: sessionmaker[Session], create: Callable[[Session], object]
) -> list[BaseException]:
    """Run `create` while a merge of DUPLICATE into KEEP is written but not committed."""
    return _while_held(sessions, _merge, create)


@pytest.mark.parametrize(("create", "leaves"), CREATORS.values(), ids=CREATORS.keys())
def test_a_creator_beside_a_merge_finds_the_lead_kept(
    sessions: sessionmaker[Session], create: Callable[[Session], Any], leaves: str
) -> None:
    _known(sessions)
    errors = _beside_a_merge(sessions, create)
    assert all(isinstance(e, Conflict) for e in errors), errors
    with sessions() as session:
        named = select(Lead.email).where(Lead.email.in_([KEEP, DUPLICATE]))
        assert session.scalars(named).all() == [KEEP]  # one lead for the person
        kept = session.scalar(select(Lead).where(Lead.email == KEEP))
        assert kept is not None
        unowned = select(func.count()).where(Event.lead_id.is_(None))
        assert session.scalar(unowned) == 0
        if leaves == "title":  # the creator's write went to the lead kept, not lost
            assert kept.title == "VP Sales"
        if leaves == "event":
            theirs = select(func.count()).where(Event.lead_id == kept.id, Event.source != "note")
            assert session.scalar(theirs) == 1
        if leaves == "refused":
            assert [type(e) for e in errors] == [Conflict]


def test_the_api_names_the_lead_kept_for_a_merged_address(
    sessions: sessionmaker[Session],
) -> None:
    _known(sessions)
    [refused] = _beside_a_merge(sessions, _create)
    assert isinstance(refused, Conflict) and f"merged into the lead {KEEP}" in str(refused)


@pytest.mark.parametrize(("write", "leaves"), WRITERS.values(), ids=WRITERS.keys())
def test_a_merge_beside_a_writer_of_the_duplicate_merges_what_it_wrote(
    sessions: sessionmaker[Session], write: Callable[[Session], Any], leaves: str
) -> None:
    """The other way round: the merge waits for the writer's claim, then reads both leads
    afresh, so what the writer gave the duplicate is on the lead kept."""
    _known(sessions)
    assert _while_held(sessions, write, _merge) == []
    with sessions() as session:
        [kept] = session.scalars(select(Lead).where(Lead.email.in_([KEEP, DUPLICATE]))).all()
        assert kept.email == KEEP
        if leaves == "title":
            assert kept.title == "VP Sales"
        if leaves == "event":
            theirs = select(func.count()).where(Event.lead_id == kept.id, Event.source != "note")
            assert session.scalar(theirs) == 1


def _visitor_known(sessions: sessionmaker[Session]) -> None:
    """The duplicate's person has a visitor id and a user id of their own (no e-mail)."""
    _known(sessions)
    raw = {"type": "identify", "userId": "u-9", "anonymousId": "a-9", "messageId": "i-9",
           "traits": {"email": DUPLICATE}}  # fmt: skip
    one_transaction(sessions, _tracked((raw,)))


def _tracked(raw: tuple[dict[str, Any], ...]) -> Callable[[Session], object]:
    """A tracking call of these messages."""
    messages = [parse_message(m, NOW) for m in raw]
    return lambda session: ingest.ingest(session, BOOK, messages, source="web", now=NOW)


PAGE = {"type": "page", "anonymousId": "a-9", "messageId": "p-9"}
TRACK = {"type": "track", "event": "Signed In", "userId": "u-9", "messageId": "t-9"}
NEWCOMER = {"type": "identify", "anonymousId": "a-new", "messageId": "i-new",
            "traits": {"email": "new@elsewhere.com"}}  # fmt: skip
# A known visitor's tracking calls (no e-mail: their ids have a lead, so they claim nothing).
KNOWN_VISITORS = {
    "page view by the visitor id": (PAGE,),
    "track by the user id": (TRACK,),
    "batch of both": (PAGE, TRACK),
    "batch beside a new visitor's identify": (NEWCOMER, PAGE),
}


@pytest.mark.parametrize("raw", KNOWN_VISITORS.values(), ids=KNOWN_VISITORS.keys())
def test_a_known_visitors_events_beside_a_merge_land_on_the_lead_kept(
    sessions: sessionmaker[Session], raw: tuple[dict[str, Any], ...]
) -> None:
    """The visitor's ids name the duplicate until the merge commits: the call read them so,
    then waited on the duplicate's row, which the merge deleted (PostgreSQL: a foreign key
    violation, a 500). It reads them again and stores its events for the lead kept."""
    _visitor_known(sessions)
    assert _beside_a_merge(sessions, _tracked(raw)) == []
    with sessions() as session:
        kept = session.scalar(select(Lead.id).where(Lead.email == KEEP))
        theirs = select(Event.message_id).where(Event.source == "web", Event.type != "identify")
        stored = set(session.scalars(theirs.where(Event.lead_id == kept)))
        assert stored == {m["messageId"] for m in raw if m["type"] != "identify"}


def _erase(session: Session) -> object:
    return privacy.erase(session, DUPLICATE, actor="ana", now=NOW)


# Every writer of the person, and the known visitor's calls: none may bring them back. Each
# with the ids it names the person by (a page view by one after the erasure is dropped).
KNOWN_BY = ({"anonymousId": "a-9"}, {"userId": "u-9"})
ERASED_WRITERS: dict[str, tuple[Callable[[Session], object], tuple[dict[str, str], ...]]] = {
    "identify": (_identify, ({"userId": "u-1"},)),
    "track with the address as user id": (_track, ()),
    "page view with the address in context": (_track_in_context, ({"anonymousId": "a-1"},)),
    "import leads": (_import_leads, ()),
    "import leads, many rows": (_import_many_leads, ()),
    "import events": (_import_events, ()),
    "page view by the visitor id": (_tracked((PAGE,)), ()),
    "track by the user id": (_tracked((TRACK,)), ()),
}


def _nothing_of_the_person(
    sessions: sessionmaker[Session], known_by: tuple[dict[str, str], ...]
) -> None:
    """The lead kept is all there is of the two, with no id and no event, and a page view by
    any id the person was known by is dropped."""
    after = [{"type": "page", "messageId": f"after-{n}", **ids} for n, ids in enumerate(known_by)]
    one_transaction(sessions, _tracked(tuple(after)))
    with sessions() as session:
        named = select(Lead.email).where(Lead.email.in_([KEEP, DUPLICATE]))
        assert session.scalars(named).all() == [KEEP]
        assert session.scalars(select(Identity.anonymous_id)).all() == []
        assert session.scalars(select(Event.message_id)).all() == []


@pytest.mark.parametrize("write", ERASED_WRITERS.values(), ids=ERASED_WRITERS.keys())
def test_a_writer_beside_an_erasure_does_not_bring_the_person_back(
    sessions: sessionmaker[Session], write: tuple[Callable[[Session], object], Any]
) -> None:
    """The erasure first: a writer waits for it, then finds the person's tombstones. Before,
    a writer by e-mail made the erased person again, a known visitor's call failed on the
    deleted lead's foreign key."""
    _visitor_known(sessions)
    assert _while_held(sessions, _erase, write[0]) == []
    _nothing_of_the_person(sessions, KNOWN_BY)


@pytest.mark.parametrize("write", ERASED_WRITERS.values(), ids=ERASED_WRITERS.keys())
def test_an_erasure_beside_a_writer_of_the_person_erases_what_it_wrote(
    sessions: sessionmaker[Session], write: tuple[Callable[[Session], object], Any]
) -> None:
    """The writer first: the erasure waits for it, then reads the person afresh, so the ids
    the writer gave them are erased and buried too."""
    _visitor_known(sessions)
    assert _while_held(sessions, write[0], _erase) == []
    _nothing_of_the_person(sessions, KNOWN_BY + write[1])
