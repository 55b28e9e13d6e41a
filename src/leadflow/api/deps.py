"""Request dependencies: one database transaction per request, the clock, and API key auth."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, HTTPException, Request
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from leadflow.api.db_faults import Blocked
from leadflow.core.roles import Permission, Role, allows
from leadflow.models.api_key import ApiKey
from leadflow.services import keys

log = logging.getLogger("leadflow.api")


async def utcnow() -> datetime:
    """The clock lives at the edge; services and core get `now` as a parameter.

    Async so FastAPI calls it on the event loop rather than through a worker thread.
    """
    return datetime.now(UTC)


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


READS = ("GET", "HEAD", "OPTIONS")
THREAD_TURN_WAIT = 30.0  # seconds the in-process worker waits for its turn, then goes anyway


class Turns:
    """One group-committed transaction at a time per process, waited for on the event loop.

    Calls queue here (FIFO, costing no worker thread while they wait); the calls that arrive
    while a turn runs share the next one. One lock per event loop, as an asyncio lock belongs
    to the loop it is first used on.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.blocked = Blocked()

    def options(self) -> dict[str, object]:
        """A writer transaction's execution options: none beyond the engine's."""
        return {}

    def lock(self) -> asyncio.Lock:
        return self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


class WriterTurns(Turns):
    """One SQLite writer at a time per process: the turns of `Turns`, taken by every writer.

    Writers queue here instead of polling SQLite's busy handler, which is slower and unfair
    under load.
    """

    def options(self) -> dict[str, object]:
        """A writer transaction's execution options: the write lock up front, a bounded wait."""
        return {"sqlite_begin": "IMMEDIATE", "sqlite_busy_ms": self.blocked.wait_ms()}

    def share_with_thread(self, engine: Engine, loop: asyncio.AbstractEventLoop) -> Engine:
        """An engine for a writer in another thread of this process (the in-process worker)
        whose write transactions take their turn here, FIFO with the requests.

        Without it the worker and the event loop met only at SQLite's lock: while the worker
        held it, the loop's next transaction waited in SQLite's busy handler, which sleeps in
        growing steps (1, 2, 5, ... 100 ms) with the whole event loop stopped.
        """
        shared = engine.execution_options()  # same pool; listeners of its own, called first
        event.listen(shared, "begin", lambda c: self._take_turn(c, loop))
        event.listen(shared, "commit", lambda c: self._end_turn(c, loop))
        event.listen(shared, "rollback", lambda c: self._end_turn(c, loop))
        return shared

    def _take_turn(self, connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        if connection.get_execution_options().get("sqlite_begin") != "IMMEDIATE":
            return  # a read: no turn needed
        try:
            waiting = asyncio.run_coroutine_threadsafe(self._acquire(), loop)
            connection.info["writer_turn"] = waiting.result(THREAD_TURN_WAIT + 5)
        except (RuntimeError, TimeoutError, concurrent.futures.TimeoutError):
            # The loop is gone or stuck (shutting down): SQLite's own lock still serializes.
            connection.info.pop("writer_turn", None)

    def _end_turn(self, connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        lock = connection.info.pop("writer_turn", None)
        if lock is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(lock.release)

    async def _acquire(self) -> asyncio.Lock:
        # Bounded here, on the loop, so a wait that times out never leaves the lock taken.
        lock = self.lock()
        await asyncio.wait_for(lock.acquire(), THREAD_TURN_WAIT)
        return lock


@dataclass(frozen=True, slots=True)
class Caller:
    """Who an API key belongs to, as the hot path needs it."""

    id: int
    role: Role
    name: str


class KeyCache:
    """API keys by the digest of their secret, remembered for a few seconds.

    Tracking calls come at hundreds per second with the same few write keys; looking each up
    costs more than storing the event. A revoked key keeps working for at most `ttl` seconds.
    """

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._found: dict[str, tuple[float, Caller | None]] = {}

    def get(self, secret: str, clock: float) -> tuple[bool, Caller | None]:
        """(known, caller): known is False when the key must be looked up."""
        entry = self._found.get(keys.digest(secret))
        if entry is None or entry[0] < clock:
            return False, None
        return True, entry[1]

    def put(self, secret: str, caller: Caller | None, clock: float) -> None:
        """Remember a lookup (None: unknown or revoked) until `clock + ttl`."""
        if len(self._found) >= self.size:
            self._found.clear()  # crude but bounded: a flood of random keys cannot grow it
        self._found[keys.digest(secret)] = (clock + self.ttl, caller)


async def _writer_turn(request: Request) -> AsyncIterator[None]:
    turns: WriterTurns | None = request.app.state.sqlite_writers
    if turns is None or request.method in READS:
        yield
        return
    async with turns.lock():
        yield


def _transaction(
    request: Request, _turn: Annotated[None, Depends(_writer_turn, scope="function")]
) -> Iterator[Session]:
    # scope="function" (below): committed after the endpoint returns and BEFORE the response
    # is sent, so an acknowledged request is a durable one; any error rolls everything back.
    writes = request.method not in READS
    turns: WriterTurns | None = request.app.state.sqlite_writers
    with _factory(request)() as session:
        try:
            if writes:
                options = turns.options() if turns else {"sqlite_begin": "IMMEDIATE"}
                session.connection(execution_options=options)
            yield session
            session.commit()
        except BaseException as exc:
            session.rollback()
            if turns is not None:
                turns.blocked.note(exc)
            raise


DbSession = Annotated[Session, Depends(_transaction, scope="function")]


def _read_transaction(request: Request) -> Iterator[Session]:
    """A read-only transaction on the reports' database (`LEADFLOW_READ_DATABASE_URL`, else the
    primary), rolled back at the end: a report never writes, and a replica would refuse."""
    factory: sessionmaker[Session] = request.app.state.read_sessions
    with factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"postgresql_readonly": True})
        try:
            yield session
        finally:
            session.rollback()


ReadSession = Annotated[Session, Depends(_read_transaction)]
Now = Annotated[datetime, Depends(utcnow)]


def bearer_key(request: Request) -> str:
    """The key of `Authorization: Bearer KEY`, or a 401 saying what is missing."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise HTTPException(
            401,
            "missing API key: send `Authorization: Bearer KEY` (create one with "
            "`leadflow keys create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credentials.strip()


def actor_of(key: ApiKey) -> str:
    """Who an API call acts as (history, audit log): the key's name, else its id."""
    return key.name or f"key {key.id}"


def require(permission: Permission) -> Callable[..., ApiKey]:
    """A dependency: the caller's key, which must exist (401) and allow `permission` (403)."""

    def check(
        request: Request, session: DbSession, now: Now, background: BackgroundTasks
    ) -> ApiKey:
        key = keys.authenticate(session, bearer_key(request), now)
        if key is None:
            raise HTTPException(
                401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not allows(Role(key.role), permission):
            raise HTTPException(
                403, f"a {key.role} key may not do this (needs {permission.value} permission)"
            )
        request.state.api_key_id = key.id
        if keys.needs_touch(key, now):
            if request.method not in READS:
                keys.record_use(session, key.id, now)
            elif _touch_due(request, key.id):
                background.add_task(_touch_later, request, key.id, now)
        return key

    return check


def _touch_due(request: Request, key_id: int) -> bool:
    """At most one attempt a minute per key and process, even when attempts fail."""
    touched: dict[int, float] = request.app.state.key_touches
    clock = time.monotonic()
    if clock - touched.get(key_id, -1e9) < keys.TOUCH_EVERY.total_seconds():
        return False
    if len(touched) > 10_000:
        touched.clear()
    touched[key_id] = clock
    return True


async def _touch_later(request: Request, key_id: int, now: datetime) -> None:
    """After a read's response: `last_used_at` in a transaction of its own that waits for no
    lock, so a read never waits for, or fails on, a write. Best effort."""
    turns: WriterTurns | None = request.app.state.sqlite_writers
    if turns is None:
        await run_in_threadpool(_touch, _factory(request), key_id, now)
        return
    async with turns.lock():
        await run_in_threadpool(_touch, _factory(request), key_id, now)


def _touch(factory: sessionmaker[Session], key_id: int, now: datetime) -> None:
    try:
        with factory() as session, session.begin():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE", "sqlite_busy_ms": 0})
            keys.record_use(session, key_id, now)
    except Exception as exc:  # the next use, a minute on, tries again
        log.debug("last use of key %s not recorded: %s", key_id, type(exc).__name__)
