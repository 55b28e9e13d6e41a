"""Writers that create the same new people and companies at the same moment (several server
processes on PostgreSQL; SQLite has one writer at a time): nothing fails on a unique key, and
each person, company and visitor is stored once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from leadflow.api.db_faults import WRITE_WAIT_MS
from leadflow.api.group_commit import one_transaction
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.segment import parse_message
from leadflow.models import Account, Event, Lead
from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.identity import Identity
from leadflow.services import importing, ingest, merge
from leadflow.services.files import Row

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
BOOK = parse_playbook(
    (Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml").read_text()
)
WRITERS = 4
# SQLite writers take turns: on a busy machine a turn may wait longer than the default 5 s.
PATIENT = {"sqlite_begin": "IMMEDIATE", "sqlite_busy_ms": 120_000}
PEOPLE = 24  # at 8 new companies


def _together(work: Callable[[int], Any]) -> list[BaseException]:
    """Run `work(writer)` in WRITERS threads released at once; the errors they raised."""
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def run(writer: int) -> None:
        start.wait()
        try:
            work(writer)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _batch(writer: int) -> list[Any]:
    """Every writer names the same people (identify, then a page view), each in its own order
    and with its own message ids, as two clients sending the same news would."""
    order = range(PEOPLE) if writer % 2 == 0 else reversed(range(PEOPLE))
    raw: list[dict[str, Any]] = []
    for person in order:
        ids = {"anonymousId": f"anon-{person}", "messageId": f"w{writer}-{person}"}
        traits = {"email": f"p{person}@company{person % 8}.com", "title": "VP Sales"}
        raw.append({"type": "identify", "traits": traits, **ids})
        raw.append({**ids, "type": "page", "messageId": f"w{writer}-{person}-page",
                    "properties": {"path": "/pricing"}})  # fmt: skip
    return [parse_message(m, NOW) for m in raw]


def _count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_new_people_at_new_companies_from_concurrent_batches(
    sessions: sessionmaker[Session],
) -> None:
    batches = [_batch(w) for w in range(WRITERS)]

    def send(writer: int) -> None:
        one_transaction(
            sessions,
            lambda s: ingest.ingest(s, BOOK, batches[writer], source="web", now=NOW),
            options=PATIENT,
        )

    assert _together(send) == []
    assert _count(sessions, Lead) == PEOPLE
    assert _count(sessions, Account) == 8
    assert _count(sessions, Identity) == PEOPLE
    assert _count(sessions, Event) == WRITERS * PEOPLE * 2
    with sessions() as session:
        unowned = session.scalar(select(func.count()).where(Event.lead_id.is_(None)))
        assert unowned == 0


def test_new_people_by_their_events_alone_from_concurrent_batches(
    sessions: sessionmaker[Session],
) -> None:
    """No identify: each person's e-mail is only the user id of their events (a server-side
    track), sent by every writer in its own order: each person and company is stored once."""

    def send(writer: int) -> None:
        order = range(PEOPLE) if writer % 2 == 0 else reversed(range(PEOPLE))
        raw = [{"type": "track", "event": "Signed In", "userId": f"p{n}@company{n % 8}.com",
                "messageId": f"w{writer}-{n}"} for n in order]  # fmt: skip
        batch = [parse_message(m, NOW) for m in raw]
        one_transaction(
            sessions,
            lambda s: ingest.ingest(s, BOOK, batch, source="web", now=NOW),
            options=PATIENT,
        )

    assert _together(send) == []
    assert _count(sessions, Lead) == PEOPLE
    assert _count(sessions, Account) == 8
    assert _count(sessions, Event) == WRITERS * PEOPLE


def test_a_new_visitor_without_an_email_becomes_one_lead(sessions: sessionmaker[Session]) -> None:
    def send(writer: int) -> None:
        message = parse_message(
            {"type": "identify", "userId": "u-1", "anonymousId": "a-1",
             "messageId": f"w{writer}", "traits": {"plan": "pro"}},
            NOW,
        )  # fmt: skip
        one_transaction(
            sessions,
            lambda s: ingest.ingest(s, BOOK, [message], source="web", now=NOW),
            options=PATIENT,
        )

    assert _together(send) == []
    assert _count(sessions, Lead) == 1
    assert _count(sessions, Identity) == 2


def test_concurrent_imports_of_the_same_people(sessions: sessionmaker[Session]) -> None:
    rows: list[Row] = [
        (n + 2, {"email": f"p{n}@company{n % 8}.com", "company": f"Co {n % 8}",
                 "domain": f"company{n % 8}.com", "title": "CTO"})
        for n in range(PEOPLE)
    ]  # fmt: skip

    def load(_writer: int) -> None:
        one_transaction(
            sessions,
            lambda s: importing.import_leads(s, rows, skip_invalid=False, now=NOW),
            options=PATIENT,
        )

    assert _together(load) == []
    assert _count(sessions, Lead) == PEOPLE
    assert _count(sessions, Account) == 8


def test_merges_beside_events_under_the_addresses_they_fold_in(
    sessions: sessionmaker[Session],
) -> None:
    """One writer merges each person's second record (d<n>@) into the first (k<n>@) while
    the others send identifies under the second address: whichever comes first, each event
    ends on the lead kept and no second record comes back (a lookup that waited on the
    duplicate's row finds it gone and the address on the lead kept)."""
    rows: list[Row] = [
        (n + 2, {"email": f"{kind}{n}@company{n % 8}.com"})
        for n in range(PEOPLE)
        for kind in ("k", "d")
    ]
    one_transaction(
        sessions, lambda s: importing.import_leads(s, rows, skip_invalid=False, now=NOW)
    )

    def work(writer: int) -> None:
        people = list(range(PEOPLE))
        random.Random(writer).shuffle(people)
        for n in people:
            if writer == 0:
                keep, duplicate = f"k{n}@company{n % 8}.com", f"d{n}@company{n % 8}.com"
                one_transaction(
                    sessions,
                    lambda s, k, d: merge.merge_leads(s, BOOK, k, d, actor="ana", now=NOW),
                    keep,
                    duplicate,
                    options=PATIENT,
                )
                continue
            message = parse_message(
                {"type": "identify", "userId": f"u{writer}-{n}", "messageId": f"w{writer}-{n}",
                 "traits": {"email": f"d{n}@company{n % 8}.com", "title": "CTO"}},
                NOW,
            )  # fmt: skip
            one_transaction(
                sessions,
                lambda s, m: ingest.ingest(s, BOOK, [m], source="web", now=NOW),
                message,
                options=PATIENT,
            )

    assert _together(work) == []
    with sessions() as session:
        emails = session.scalars(select(Lead.email)).all()
        assert sorted(emails) == sorted(f"k{n}@company{n % 8}.com" for n in range(PEOPLE))
        identified = select(Lead.email).join(Event, Event.lead_id == Lead.id)
        owners = session.scalars(identified.where(Event.type == "identify")).all()
        assert len(owners) == (WRITERS - 1) * PEOPLE


ROUNDS = 4


def _news(writer: int, round_: int) -> list[Any]:
    """A page view and a click for every known person, in this writer's own order: the
    same leads and accounts in every writer's transaction, locked by each in turn."""
    people = list(range(PEOPLE))
    random.Random(writer * 100 + round_).shuffle(people)
    raw: list[dict[str, Any]] = []
    for person in people:
        ids = {"anonymousId": f"anon-{person}", "messageId": f"w{writer}-r{round_}-{person}"}
        raw.append({**ids, "type": "page", "properties": {"path": "/pricing"}})
        raw.append({**ids, "type": "track", "event": "Email Clicked",
                    "messageId": f"{ids['messageId']}-click"})  # fmt: skip
    return [parse_message(m, NOW) for m in raw]


def test_writers_of_the_same_known_leads_wait_for_each_other_instead_of_failing(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    """Plain contention is not an outage: with the server's own bound on a lock wait
    (`WRITE_WAIT_MS`), writers of overlapping leads and accounts, each locking them in its
    own order, all succeed, and every event is stored once."""
    known = [m for m in _batch(0) if m.type == "identify"]
    one_transaction(sessions, lambda s: ingest.ingest(s, BOOK, known, source="web", now=NOW))
    engine = make_engine(database_url, lock_wait_ms=WRITE_WAIT_MS)  # as the server's
    server_sessions = make_session_factory(engine)
    # SQLite's writers take turns in the server (`WriterTurns`), never at the file lock: here
    # they meet at it, so they wait as long as it takes; PostgreSQL's wait is the server's.
    options = PATIENT if engine.dialect.name == "sqlite" else None

    def send(writer: int) -> None:
        for round_ in range(ROUNDS):
            one_transaction(
                server_sessions,
                lambda s, news: ingest.ingest(s, BOOK, news, source="web", now=NOW),
                _news(writer, round_),
                options=options,
            )

    try:
        assert _together(send) == []
    finally:
        engine.dispose()
    assert _count(sessions, Event) == PEOPLE + WRITERS * ROUNDS * PEOPLE * 2
    assert _count(sessions, Lead) == PEOPLE


@pytest.mark.postgres
def test_a_lock_wait_that_runs_out_between_two_writers_is_tried_again(
    postgresql_url: str,
) -> None:
    """Two writers that lock two rows in opposite orders wait on each other; the lock
    timeout (here shorter than PostgreSQL's 1 s deadlock detector, so it is the timeout that
    ends it) fails one of them, which is then run again and succeeds: no error reaches the
    client. Each try starts afresh: only the last one's writes are stored."""
    engine = make_engine(postgresql_url, lock_wait_ms=300)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE pair (id int PRIMARY KEY, writes int)")
        connection.exec_driver_sql("INSERT INTO pair VALUES (1, 0), (2, 0)")
    crossed = threading.Barrier(2)
    tries: list[int] = []

    def work(session: Session, first: int, second: int) -> None:
        tries.append(first)
        lock = text("UPDATE pair SET writes = writes + 1 WHERE id = :id")
        session.execute(lock, {"id": first})
        if len(tries) <= 2:  # the first tries meet crosswise; later ones run as they come
            crossed.wait(timeout=30)
            time.sleep(0.15 if first == 2 else 0)  # the writer of 1 waits first: its wait ends
        session.execute(lock, {"id": second})

    factory = make_session_factory(engine)
    errors: list[BaseException] = []

    def run(first: int, second: int) -> None:
        try:
            one_transaction(factory, work, first, second)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with engine.connect() as connection:
        writes = connection.exec_driver_sql("SELECT writes FROM pair ORDER BY id").scalars()
        assert list(writes) == [2, 2]
    engine.dispose()
    assert errors == []
    assert tries == [1, 2, 1] or tries == [2, 1, 1]  # the writer of 1 ran again, after 2
