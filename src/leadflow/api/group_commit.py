"""Group commit: tracking calls that arrive together share one transaction.

A transaction's fixed cost (begin, reading the active playbook, the flush, commit) is most of
a single tracking call's, and a browser sends one event per call. So calls wait their turn on
the event loop (no worker thread held while waiting), and each turn runs every call that is
waiting in one transaction. Each call still gets its own result, and only after the commit:
nothing is acknowledged that is not durable. If the shared transaction fails, each call is
retried in a transaction of its own, so one call's failure never fails the others.

On SQLite (one writer at a time) the turns are the process's writer turns and run on the
event loop. On PostgreSQL the turns are the process's own and run in a worker thread, so the
loop keeps reading requests, which join the next turn; other processes write beside them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from leadflow.api.db_faults import RETRIES, retryable, unavailable
from leadflow.api.deps import Turns

T = TypeVar("T")
Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
Together = Callable[[Session, list[tuple[Any, ...]]], list[Any]]
_TOGETHER: dict[Callable[..., Any], Together] = {}


def runs_together(work: Callable[..., Any], together: Together) -> None:
    """Calls of `work` waiting side by side in a turn may run as one: `together(session,
    [args, ...])` gives each call's result. The work a call does once whatever its size (the
    leads' and accounts' reads, the flush) is then done once for them all, so the more calls
    a backlog queues, the cheaper each becomes and the sooner the backlog drains. If the turn
    fails, each call is retried alone, as any call is."""
    _TOGETHER[work] = together


def run_calls(session: Session, calls: list[Call]) -> list[Any]:
    """Each call's result, in order; runs of calls of one mergeable work run as one."""
    results: list[Any] = []
    for work, run in groupby(calls, key=itemgetter(0)):
        same = list(run)
        together = _TOGETHER.get(work)
        if together is not None and len(same) > 1:
            found = together(session, [args for _, args, _ in same])
            assert len(found) == len(same), "one result per call"
            results += found
        else:
            results += [work(session, *args) for _, args, _ in same]
    return results


def one_transaction(
    factory: sessionmaker[Session],
    work: Callable[..., T],
    *args: Any,
    options: dict[str, object] | None = None,
) -> T:
    """`work(session, *args)` in a write transaction of its own, committed.

    A deadlock, a serialization failure or a lock wait that ran out (PostgreSQL, several
    writers of the same leads; see `db_faults.retryable`) is rolled back and the work run
    again, up to `RETRIES` times: nothing of a failed try stays, and the work a tracking call
    stores is keyed by message id, so a try that did commit is never stored twice.
    """
    for attempt in range(1, RETRIES + 1):
        with factory() as session:
            begin = {"sqlite_begin": "IMMEDIATE"} if options is None else options
            session.connection(execution_options=begin)
            try:
                result = work(session, *args)
                session.commit()
            except Exception as exc:
                session.rollback()
                if attempt < RETRIES and retryable(exc, attempt):
                    time.sleep(random.uniform(0.0, 0.02 * attempt))  # apart, not in lockstep
                    continue
                raise
            except BaseException:
                session.rollback()
                raise
        return result
    raise AssertionError("unreachable: the last attempt returns or raises")


Outcome = tuple["asyncio.Future[Any]", bool, Any]  # (future, failed, result or error)


class GroupCommit:
    """Runs waiting write calls of one process together, one transaction per turn."""

    def __init__(
        self, factory: sessionmaker[Session], turns: Turns, *, in_thread: bool = False
    ) -> None:
        self.factory = factory
        self.turns = turns  # shared with the process's other writers (the REST API, SQLite)
        self.in_thread = in_thread  # run each turn's transaction off the event loop
        self._waiting: list[Call] = []
        self._scheduled = False
        self._task: asyncio.Task[None] | None = None  # held so it is not garbage-collected

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(session, *args)`'s result once the transaction it ran in has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((work, args, future))
        if not self._scheduled:
            self._scheduled = True
            self._task = loop.create_task(self._turn())
        return await future

    async def _turn(self) -> None:
        # Calls that arrive while this turn waits for its lock, or runs, join the next turn.
        async with self.turns.lock():
            calls, self._waiting = self._waiting, []
            try:
                if self.in_thread:
                    outcomes = await asyncio.to_thread(self._together, calls)
                else:
                    outcomes = self._together(calls)
                _settle(outcomes)  # on the loop: futures are not thread-safe
            finally:
                self._scheduled = False
                if self._waiting:
                    self._scheduled = True
                    self._task = asyncio.get_running_loop().create_task(self._turn())

    def _together(self, calls: list[Call]) -> list[Outcome]:
        # One transaction for the turn, run again whole after a conflict with another
        # process's transaction (PostgreSQL: a deadlock, a lock wait that ran out), as any call.
        options = self.turns.options()
        try:
            results = one_transaction(self.factory, run_calls, calls, options=options)
        except Exception as exc:
            self.turns.blocked.note(exc)
            if unavailable(exc) is not None:
                # Locked, read-only or gone: retrying call by call would make each wait in turn.
                return [(future, True, exc) for _, _, future in calls]
            return [self._one(call) for call in calls]  # one call's fault: each alone
        return [
            (future, False, result) for (_, _, future), result in zip(calls, results, strict=True)
        ]

    def _one(self, call: Call) -> Outcome:
        work, args, future = call
        try:
            result = one_transaction(self.factory, work, *args, options=self.turns.options())
        except Exception as exc:
            self.turns.blocked.note(exc)
            return (future, True, exc)
        return (future, False, result)


def _settle(outcomes: list[Outcome]) -> None:
    """Give each waiting call its result or error (a call whose caller went away is done)."""
    for future, failed, value in outcomes:
        if future.done():
            continue
        if failed:
            future.set_exception(value)
        else:
            future.set_result(value)
