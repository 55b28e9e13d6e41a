"""The worker: delivers the alert outbox and sweeps SLA deadlines, in a loop.

It runs as `leadflow worker`, or inside `leadflow serve` on one machine. Several workers may run
against PostgreSQL: they claim messages and overdue hand-offs with FOR UPDATE SKIP LOCKED, so
none is sent or escalated twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from leadflow.api.errors import failure_line
from leadflow.core.errors import NotFound
from leadflow.services import (
    decay_refresh,
    delivery,
    digest,
    operations,
    pipeline,
    playbooks,
    privacy,
    reporting,
    sla,
)
from leadflow.services.reports import snapshots

log = logging.getLogger("leadflow.worker")
SWEEP_EVERY = 5.0  # seconds between SLA sweeps
DECAY_EVERY = 300.0  # seconds between passes over leads whose decayed score may have moved
STATELESS_EVERY = 3600.0  # seconds between decay passes that also look for leads without states
DECAY_BATCH = 10_000  # leads without a state re-scored from their events per pass
# Leads a decay pass writes per transaction: a tracking call waits for one part of the pass
# (about a tenth of a second at a million leads), never for the whole of it (seconds).
DECAY_PART = 1_000
LEARN_EVERY = 3600.0  # seconds between looks at the playbook's retraining schedule
SNAPSHOT_LOOK = 10.0  # seconds between looks at whether the pages' snapshots are due


def utcnow() -> datetime:
    """The worker's clock (an interface reads the clock; services get `now`)."""
    return datetime.now(UTC)


class Worker:
    """One worker: `run_once` for a single pass, `run` until `stop` is set."""

    def __init__(self, factory: sessionmaker[Session], interval: float = 0.05) -> None:
        self.factory = factory
        self.interval = interval
        self.name = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.stop = threading.Event()
        self.wake = threading.Event()  # set when new alerts were committed
        self._last_sweep = 0.0
        self._last_decay = 0.0
        self._last_stateless: float | None = None
        self._last_learn = 0.0
        self._last_snapshot = 0.0
        self._learning: threading.Thread | None = None
        self.handover: delivery.Handover | None = None  # while `run` runs
        self.started_at = utcnow()

    def run_once(self, client: httpx.Client, *, sweep: bool = True) -> int:
        """Deliver what is due (and sweep deadlines); how many messages were delivered."""
        delivered = 0
        while batch := delivery.deliver_due(self.factory, self.name, utcnow, client, self.handover):
            delivered += batch
        if sweep:
            self.sweep()
        return delivered

    def sweep(self) -> int:
        """Move the leads whose account's score a colleague's event lifted, breach and escalate
        overdue hand-offs, and queue digests that are due, in one transaction."""
        with self.factory() as session, session.begin():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            now = utcnow()
            operations.heartbeat(session, self.name, now, self.started_at)  # for /readyz
            try:
                book = playbooks.active_playbook(session)
            except NotFound:
                return 0
            moved = sum(pipeline.run_account_peers(session, book, now).moves.values())
            return moved + sla.sweep(session, book, now) + digest.send_due(session, book, now)

    def decay(self) -> int:
        """Re-score leads whose score has aged, and move the ones that now qualify; how many
        leads were read.

        Every lead is read as columns and aged in a transaction that takes no write lock (on
        SQLite the read runs in child processes and takes a second or more: tracking calls
        would wait behind it); the write lock is taken only to write the leads whose shown
        score moved, skipping any scored since the read, `DECAY_PART` leads per transaction."""
        now = utcnow()
        with self.factory() as session, session.begin():
            try:
                book = playbooks.active_playbook(session)
            except NotFound:
                return 0
            # Marks read before the search, which then sees at least what their runs wrote
            # (this snapshot on SQLite, a later one on PostgreSQL).
            marks = pipeline.stateless_marks(session)
            clock = time.monotonic()
            stateless = self._search_stateless(marks, clock)
            planned = decay_refresh.plan(session, book, now, find_stateless=stateless)
        searched = stateless and len(planned.without_state) <= DECAY_BATCH  # else more next pass
        if searched:
            self._last_stateless = clock
        planned = replace(planned, without_state=planned.without_state[:DECAY_BATCH])
        read = 0
        for part in decay_refresh.parts(planned, DECAY_PART):
            with self.factory() as session, session.begin():
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                if playbooks.active_playbook(session) is not book:  # parsed once per version
                    return read  # another was applied meanwhile, re-scoring every lead
                read += pipeline.run_decay(session, book, now, planned=part).leads
        if searched and marks:  # answered once what the search found is scored, not before
            with self.factory() as session, session.begin():
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                pipeline.stateless_searched(session, marks)
        return read

    def _search_stateless(self, marks: list[int], clock: float) -> bool:
        """Whether this pass also looks for leads without states (scored in bulk, or before a
        playbook change), which reads every lead: hourly, not every pass (which reads only
        the due states), and on the pass after a bulk run scored leads as of another moment
        (`rescore --at`, in any process: its mark), whose scores would otherwise stand till
        the hourly search."""
        if marks or self._last_stateless is None:
            return True
        return clock - self._last_stateless >= STATELESS_EVERY

    def retain(self) -> int:
        """Anonymize events older than the playbook's retention (a batch per pass)."""
        with self.factory() as session, session.begin():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                book = playbooks.active_playbook(session)
            except NotFound:
                return 0
            return privacy.apply_retention(session, book, utcnow())

    def fold_tallies(self) -> bool:
        """Fold the leads' tallies when enough rows were appended (`services/reporting`): a
        look without the write lock, then a short write (a few thousand rows)."""
        with self.factory() as session, session.begin():
            if not reporting.tallies_to_fold(session):
                return False
        with self.factory() as session, session.begin():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            return reporting.fold_tallies(session)

    def snapshot(self, *, force: bool = False) -> int | None:
        """Refresh the pages' snapshots when due (`services/reports/snapshots.py`, or always
        with `force`); the milliseconds computing them took (None: not due). Computed in a
        transaction that takes no write lock (seconds on a big database: tracking calls would
        wait behind it), then stored in a short one."""
        now = utcnow()
        with self.factory() as session, session.begin():
            if not force and not snapshots.due(session, now):
                return None
            try:
                book = playbooks.active_playbook(session)
            except NotFound:
                return None
            found = snapshots.compute(session, book, now)
        with self.factory() as session, session.begin():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            snapshots.store(session, found, now)
        return sum(s.took_ms for s in found)

    def learn(self) -> dict[str, object] | None:
        """Retrain the model when the playbook's schedule says so (`learning:`); the new
        version replaces the active one only when it ranks no worse out of sample.

        The transaction is not IMMEDIATE: training reads for a while (seconds to minutes) and
        writes only at the end, so on SQLite the writers are not held up meanwhile."""
        from leadflow.services import model  # the learners load only when retraining is due

        with self.factory() as session, session.begin():
            try:
                book = playbooks.active_playbook(session)
            except NotFound:
                return None
            if model.retrain_due(session, book, utcnow()) is None:
                return None
        with self.factory() as session, session.begin():
            result = model.retrain_if_due(session, book, utcnow())
        if result is not None:
            log.info("model version %s trained (%s): %s", result["version"], result["why"],
                     result["decision"])  # fmt: skip
        return result

    def learn_in_background(self) -> threading.Thread | None:
        """Retrain (`learn`) in a thread of its own, so alerts keep flowing while a model
        trains (seconds to minutes); None while an earlier training still runs."""
        if self._learning is not None and self._learning.is_alive():
            return None
        self._learning = threading.Thread(target=self._learn_logged, name="leadflow-learning",
                                          daemon=True)  # fmt: skip
        self._learning.start()
        return self._learning

    def _learn_logged(self) -> None:
        try:
            self.learn()
        except Exception as exc:  # the next look retries; the worker goes on
            log.error("%s", failure_line("retraining failed", exc))

    def run(self) -> None:
        """Until `stop` is set: alerts are delivered in a thread of their own
        (`_deliver_loop`), so no periodic job (a decay pass takes seconds at a million leads)
        ever holds one up; the periodic jobs run here. Errors are logged and retried, never
        fatal. A commit in this process that queues outbox messages hands them over, already
        held, and wakes the delivery (`delivery.Handover`); messages queued elsewhere, and
        retries, are claimed on its poll every `interval` seconds."""
        with delivery.handed_over(self.name, self.wake.set) as handover:
            self.handover = handover
            sender = threading.Thread(target=self._deliver_loop, name="leadflow-delivery",
                                      daemon=True)  # fmt: skip
            sender.start()
            try:
                self._jobs_loop()
            finally:  # stopped (or interrupted: Ctrl-C in `leadflow worker`)
                self.stop.set()
                self.wake.set()  # the delivery sees `stop` at once
                sender.join(timeout=delivery.TIMEOUT + 5)
                self.handover = None

    def _deliver_loop(self) -> None:
        with httpx.Client() as client:
            while not self.stop.is_set():
                self.wake.clear()  # before the pass: a commit during it brings the next at once
                try:
                    self.run_once(client, sweep=False)
                except Exception as exc:  # keep delivering; the next pass retries
                    log.error("%s", failure_line("delivery pass failed", exc))
                self.wake.wait(self.interval)

    def _jobs_loop(self) -> None:
        while not self.stop.is_set():
            try:
                now = utcnow().timestamp()
                if now - self._last_sweep >= SWEEP_EVERY:
                    self._last_sweep = now
                    self.sweep()
                if now - self._last_decay >= DECAY_EVERY:
                    self._last_decay = now
                    self.decay()
                    self.retain()
                if now - self._last_snapshot >= SNAPSHOT_LOOK:
                    self._last_snapshot = now
                    self.fold_tallies()
                    self.snapshot()
                if now - self._last_learn >= LEARN_EVERY:
                    self._last_learn = now
                    self.learn_in_background()
            except Exception as exc:  # keep the loop alive; the next pass retries
                log.error("%s", failure_line("worker pass failed", exc))
            self.stop.wait(self.interval)

    def start_thread(self) -> threading.Thread:
        """Run in a daemon thread (inside the server)."""
        thread = threading.Thread(target=self.run, name="leadflow-worker", daemon=True)
        thread.start()
        return thread
