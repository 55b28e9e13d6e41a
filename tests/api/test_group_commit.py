"""Group commit: calls that arrive together share a transaction, yet each stands alone."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from leadflow.api.deps import KeyCache, Turns, WriterTurns
from leadflow.api.group_commit import GroupCommit, runs_together
from leadflow.models.db import make_engine, make_session_factory


def run(main: Coroutine[Any, Any, Any]) -> Any:
    """`asyncio.run(main)` in a thread of its own: a browser test run earlier in this process
    (Playwright's sync API) leaves an event loop running in the main thread, where
    `asyncio.run` refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main).result()


def _group(url: str) -> GroupCommit:
    """A group commit as the app makes it for this engine (see `api.app.create_app`)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (body TEXT UNIQUE)")
    if engine.dialect.name == "sqlite":
        return GroupCommit(make_session_factory(engine), WriterTurns())
    return GroupCommit(make_session_factory(engine), Turns(), in_thread=True)


@pytest.fixture
def group(database_url: str) -> GroupCommit:
    return _group(database_url)


@pytest.fixture
def sqlite_group(tmp_path: Path) -> GroupCommit:
    return _group(f"sqlite:///{tmp_path}/g.db")


def duplicate(exc: object) -> bool:
    """The error of a second note with the same body, on either engine."""
    text = str(exc)
    return isinstance(exc, Exception) and ("UNIQUE" in text or "unique constraint" in text)


def write(session: Session, body: str) -> int:
    session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})
    return len(body)


def stored(group: GroupCommit) -> list[str]:
    with group.factory() as session:
        return sorted(session.execute(text("SELECT body FROM notes")).scalars())


def test_concurrent_calls_each_get_their_result_after_commit(group: GroupCommit) -> None:
    async def main() -> list[int]:
        return await asyncio.gather(*(group.run(write, f"note-{k}") for k in range(20)))

    assert run(main()) == [6] * 10 + [7] * 10
    assert len(stored(group)) == 20


def test_one_failing_call_fails_alone(group: GroupCommit) -> None:
    async def main() -> list[object]:
        calls = [group.run(write, "a"), group.run(write, "a"), group.run(write, "b")]
        return await asyncio.gather(*calls, return_exceptions=True)

    first, second, third = run(main())
    assert first == 1 and third == 1
    assert duplicate(second)
    assert stored(group) == ["a", "b"]


def write_many(session: Session, calls: list[tuple[object, ...]]) -> list[int]:
    """`write` for several calls in one go (one statement), as `_store_together` does."""
    merged.append(len(calls))
    bodies = [str(args[0]) for args in calls]
    session.execute(text("INSERT INTO notes (body) VALUES (:b)"), [{"b": b} for b in bodies])
    return [len(b) for b in bodies]


def write_mergeable(session: Session, body: str) -> int:
    return write(session, body)


merged: list[int] = []
runs_together(write_mergeable, write_many)


def test_waiting_calls_of_a_mergeable_work_run_as_one(group: GroupCommit) -> None:
    """Calls of one mergeable work waiting in a turn run once for all of them, each still
    answered for itself; if the merged run fails, each call runs alone, so only the bad one
    fails."""
    merged.clear()

    async def main(bodies: list[str]) -> list[object]:
        calls = [group.run(write_mergeable, b) for b in bodies]
        return await asyncio.gather(*calls, return_exceptions=True)

    assert run(main(["a", "bb", "ccc"])) == [1, 2, 3]
    assert merged == [3]  # one run for three calls
    found = run(main(["dddd", "a", "ee"]))  # "a" is stored: the merged run fails
    assert found[0] == 4 and found[2] == 2
    assert duplicate(found[1])
    assert stored(group) == ["a", "bb", "ccc", "dddd", "ee"]


def test_key_cache_forgets_after_its_ttl() -> None:
    cache = KeyCache(ttl=10.0)
    assert cache.get("secret", 0.0) == (False, None)
    cache.put("secret", None, 0.0)
    assert cache.get("secret", 5.0) == (True, None)  # a revoked key: remembered as unknown
    assert cache.get("secret", 10.5) == (False, None)  # looked up again after the ttl


def test_a_writer_thread_waits_for_the_turn_so_requests_never_meet_its_lock(
    sqlite_group: GroupCommit,
) -> None:
    """The in-process worker writes from a thread; its transactions queue with the requests'
    (before, the loop met the worker's transaction at SQLite's lock and waited in its busy
    handler with the event loop stopped)."""
    group = sqlite_group
    assert isinstance(group.turns, WriterTurns)
    engine = group.factory.kw["bind"]

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        worker = make_session_factory(group.turns.share_with_thread(engine, loop))
        order: list[str] = []

        def worker_writes() -> None:
            with worker() as session, session.begin():
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                order.append("worker")
                write(session, "worker")
                time.sleep(0.3)  # a long pass, holding SQLite's write lock meanwhile

        async with group.turns.lock():  # a request's turn
            thread = loop.run_in_executor(None, worker_writes)
            await asyncio.sleep(0.2)
            with group.factory() as session, session.begin():
                options = {"sqlite_begin": "IMMEDIATE", "sqlite_busy_ms": 0}
                session.connection(execution_options=options)  # never waits: nobody holds it
                write(session, "request")
                order.append("request")
        await thread
        await group.run(write, "after")  # the worker gave the turn back
        return order

    assert run(main()) == ["request", "worker"]
    assert stored(group) == ["after", "request", "worker"]


@pytest.mark.postgres
def test_a_deadlock_of_the_shared_transaction_runs_the_turn_again(
    postgresql_url: str,
) -> None:
    """PostgreSQL: another process's transaction deadlocks with a turn's; the turn is rolled
    back and runs again, so no call fails (it is not a locked database to give up on, as on
    SQLite)."""
    group = _group(postgresql_url)
    engine = group.factory.kw["bind"]
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE slots (id INT PRIMARY KEY, n INT)")
        connection.exec_driver_sql("INSERT INTO slots VALUES (1, 0), (2, 0)")
    outsider_holds_2 = threading.Event()
    tries: list[str] = []

    def crossing(session: Session, body: str) -> int:
        tries.append(body)
        session.execute(text("UPDATE slots SET n = n + 1 WHERE id = 1"))
        if len(tries) == 1:
            assert outsider_holds_2.wait(10)
        session.execute(text("UPDATE slots SET n = n + 1 WHERE id = 2"))  # the first try waits
        return write(session, body)

    def outsider() -> None:
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("UPDATE slots SET n = n + 10 WHERE id = 2")
            outsider_holds_2.set()
            time.sleep(0.3)  # the turn waits for row 2 first, so its deadlock check fires first
            connection.exec_driver_sql("UPDATE slots SET n = n + 10 WHERE id = 1")

    async def main() -> list[object]:
        other = asyncio.get_running_loop().run_in_executor(None, outsider)
        calls = [group.run(crossing, "x"), group.run(crossing, "yy")]
        found = await asyncio.gather(*calls, return_exceptions=True)
        await other
        return found

    assert run(main()) == [1, 2]
    assert tries == ["x", "x", "yy"]  # the turn deadlocked in its first call, then ran again
    assert stored(group) == ["x", "yy"]
    with engine.connect() as connection:
        slots = connection.exec_driver_sql("SELECT n FROM slots ORDER BY id").scalars().all()
    assert slots == [12, 12]  # the outsider's and each call's once: the shared try left nothing
