"""Group commit: calls that arrive together share a transaction, yet each stands alone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from leadflow.api.deps import KeyCache, WriterTurns
from leadflow.api.group_commit import GroupCommit, runs_together
from leadflow.models.db import make_engine, make_session_factory


@pytest.fixture
def group(tmp_path: Path) -> GroupCommit:
    engine = make_engine(f"sqlite:///{tmp_path}/g.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (body TEXT UNIQUE)")
    return GroupCommit(make_session_factory(engine), WriterTurns())


def write(session: Session, body: str) -> int:
    session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})
    return len(body)


def stored(group: GroupCommit) -> list[str]:
    with group.factory() as session:
        return sorted(session.execute(text("SELECT body FROM notes")).scalars())


def test_concurrent_calls_each_get_their_result_after_commit(group: GroupCommit) -> None:
    async def main() -> list[int]:
        return await asyncio.gather(*(group.run(write, f"note-{k}") for k in range(20)))

    assert asyncio.run(main()) == [6] * 10 + [7] * 10
    assert len(stored(group)) == 20


def test_one_failing_call_fails_alone(group: GroupCommit) -> None:
    async def main() -> list[object]:
        calls = [group.run(write, "a"), group.run(write, "a"), group.run(write, "b")]
        return await asyncio.gather(*calls, return_exceptions=True)

    first, second, third = asyncio.run(main())
    assert first == 1 and third == 1
    assert isinstance(second, Exception) and "UNIQUE" in str(second)
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

    assert asyncio.run(main(["a", "bb", "ccc"])) == [1, 2, 3]
    assert merged == [3]  # one run for three calls
    found = asyncio.run(main(["dddd", "a", "ee"]))  # "a" is stored: the merged run fails
    assert found[0] == 4 and found[2] == 2
    assert isinstance(found[1], Exception) and "UNIQUE" in str(found[1])
    assert stored(group) == ["a", "bb", "ccc", "dddd", "ee"]


def test_key_cache_forgets_after_its_ttl() -> None:
    cache = KeyCache(ttl=10.0)
    assert cache.get("secret", 0.0) == (False, None)
    cache.put("secret", None, 0.0)
    assert cache.get("secret", 5.0) == (True, None)  # a revoked key: remembered as unknown
    assert cache.get("secret", 10.5) == (False, None)  # looked up again after the ttl


def test_a_writer_thread_waits_for_the_turn_so_requests_never_meet_its_lock(
    group: GroupCommit,
) -> None:
    """The in-process worker writes from a thread; its transactions queue with the requests'
    (before, the loop met the worker's transaction at SQLite's lock and waited in its busy
    handler with the event loop stopped)."""
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

    assert asyncio.run(main()) == ["request", "worker"]
    assert stored(group) == ["after", "request", "worker"]
