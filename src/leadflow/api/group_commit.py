"""Group commit for SQLite: tracking calls that arrive together share one transaction.

SQLite has one writer at a time, and a transaction's fixed cost (begin, reading the active
playbook, commit) is most of a single tracking call's. So calls wait their turn on the event
loop (no worker thread held while waiting), and each turn runs every call that is waiting in
one transaction. Each call still gets its own result, and only after the commit: nothing is
acknowledged that is not durable. If the shared transaction fails, each call is retried in a
transaction of its own, so one call's failure never fails the others.
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
from leadflow.api.deps import WriterTurns

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
            session.connection(execution_options=options or {"sqlite_begin": "IMMEDIATE"})
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


class GroupCommit:
    """Runs waiting write calls of one process together, one transaction per turn."""

    def __init__(self, factory: sessionmaker[Session], turns: WriterTurns) -> None:
        self.factory = factory
        self.turns = turns  # shared with the process's other writers (the REST API)
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
        # Calls that arrive while this turn waits for the writer lock join it.
        async with self.turns.lock():
            calls, self._waiting = self._waiting, []
            try:
                self._together(calls)
            finally:
                self._scheduled = False
                if self._waiting:
                    self._scheduled = True
                    self._task = asyncio.get_running_loop().create_task(self._turn())

    def _together(self, calls: list[Call]) -> None:
        try:
            with self.factory() as session:
                session.connection(execution_options=self.turns.options())
                try:
                    results = run_calls(session, calls)
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except Exception as exc:
            self.turns.blocked.note(exc)
            if unavailable(exc) is not None:
                # Locked or read-only: retrying call by call would make each wait in turn.
                for _, _, future in calls:
                    if not future.done():
                        future.set_exception(exc)
            elif len(calls) == 1:
                self._one(calls[0])
            else:
                for call in calls:
                    self._one(call)
            return
        for (_, _, future), result in zip(calls, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _one(self, call: Call) -> None:
        work, args, future = call
        try:
            result = one_transaction(self.factory, work, *args, options=self.turns.options())
        except Exception as exc:
            self.turns.blocked.note(exc)
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
