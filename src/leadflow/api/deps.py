"""Request dependencies: one database transaction per request, the clock, and API key auth."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.roles import Permission, Role, allows
from leadflow.models.api_key import ApiKey
from leadflow.services import keys


async def utcnow() -> datetime:
    """The clock lives at the edge; services and core get `now` as a parameter.

    Async so FastAPI calls it on the event loop rather than through a worker thread.
    """
    return datetime.now(UTC)


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


READS = ("GET", "HEAD", "OPTIONS")


class WriterTurns:
    """One SQLite writer at a time per process, waited for on the event loop.

    Writers queue here (FIFO, costing no worker thread while they wait) instead of polling
    SQLite's busy handler, which is slower and unfair under load. One lock per event loop, as
    an asyncio lock belongs to the loop it is first used on.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        return self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


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
    with _factory(request)() as session:
        if writes:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


DbSession = Annotated[Session, Depends(_transaction, scope="function")]
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

    def check(request: Request, session: DbSession, now: Now) -> ApiKey:
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
        return key

    return check
