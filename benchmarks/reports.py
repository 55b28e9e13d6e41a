#!/usr/bin/env python3
"""Time every report (and the plan) over 1,000,000 leads and 10,000,000 events.

    python3 dev.py bench reports [--leads 1000000] [--events 10000000] [--runs 3] [--only NAME]
                                 [--db postgresql | --db postgresql://... | --db PATH]
                                 [--from-sqlite PATH | auto | no]

Builds the database once (the re-score benchmark's leads, accounts and events, scored by
`leadflow rescore`, then a closed-loop history drawn from the scores: stage changes, outcomes,
hand-offs to 20 reps, sales touches) and reuses it while the sizes match: a SQLite file in the
temporary folder or, with `--db postgresql`, a local server whose data directory is kept there
as leadflow-reports-pg-LEADS-EVENTS (see benchmarks/_db.py). Each report runs
`--runs` times in-process through the same service the API and CLI use; the median is shown.

A PostgreSQL database is copied from the SQLite build of the same sizes when that one is
finished (benchmarks/_from_sqlite.py: minutes instead of over an hour and a half at a million
leads, the same rows); `--from-sqlite no` builds it from scratch as SQLite's is built.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database
from _from_sqlite import copy_sqlite_build, sqlite_build_problem
from rescore import (
    FORMAT_VERSION,
    NOW,
    PLAYBOOK,
    build,
    cpu_seconds,
    empty_schema,
    machine,
    matches,
    psycopg_connect,
)
from sqlalchemy import delete, inspect, text

from leadflow.core.playbook_text import parse_playbook
from leadflow.core.report_math import Cohort
from leadflow.models.db import downgrade, make_engine, make_session_factory, upgrade
from leadflow.models.page_snapshot import PageSnapshot
from leadflow.services import plan as plan_service
from leadflow.services import reports
from leadflow.services.reports import snapshots
from leadflow.services.rescore import rescore_all

DAY_US = 86_400_000_000
STAGES = ("lead", "mql", "sql", "opportunity", "customer")
REASONS = ("no budget", "bad timing", "no authority", "student", "competitor customer")


def stamp(micros: np.ndarray) -> list[str]:
    """SQLite's stored timestamp text for microseconds since the epoch."""
    values = micros.astype("datetime64[us]").astype(str)
    return [v.replace("T", " ") + ("" if "." in v else ".000000") for v in values]


class Raw:
    """One DB-API connection for the bulk writes, SQLite or PostgreSQL, `?` placeholders."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.con: Any  # a sqlite3 or a psycopg connection
        if self.sqlite:
            self.con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.con.execute("PRAGMA journal_mode=OFF")
            self.con.execute("BEGIN")
        else:
            self.con = psycopg_connect(url)
            self.con.execute("SET TIME ZONE 'UTC'")  # the stamps are UTC wall-clock text

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.con.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.sqlite:
            self.con.executemany(sql, rows)
        else:
            with self.con.cursor() as cursor:
                cursor.executemany(self._sql(sql), list(rows))

    def finish(self) -> None:
        """Commit, refresh the planner's statistics and close."""
        if self.sqlite:
            self.con.execute("COMMIT")
            self.con.execute("ANALYZE")
        else:
            self.con.commit()
            self.con.autocommit = True
            self.con.execute("VACUUM (ANALYZE)")
        self.con.close()


def closed_loop(url: str, seed: int) -> None:
    """Stages, outcomes, hand-offs and touches drawn from the leads' scores."""
    rng = np.random.default_rng(seed + 1)
    con = Raw(url)
    ids, totals = (
        np.array(c) for c in zip(*con.execute("SELECT id, total FROM leads"), strict=True)
    )
    n = ids.size
    now = np.datetime64(NOW.replace(tzinfo=None), "us").astype(np.int64)
    created = now - rng.integers(DAY_US, 365 * DAY_US, n)
    order = np.argsort(np.argsort(totals + rng.normal(0, 15, n))) / n  # score rank, with noise
    furthest = np.searchsorted([0.6, 0.85, 0.93, 0.97], order, side="right")  # 0 lead..4 customer
    gaps = rng.exponential(5 * DAY_US, (n, 5)).astype(np.int64)
    gaps[:, 0] = 0
    at = np.minimum(created[:, None] + np.cumsum(gaps, axis=1), now - 1)
    fate = rng.random(n)
    lost = (furthest == 3) & (fate < 0.5)
    recycled = (furthest == 2) & (fate < 0.3)
    disqualified = (furthest == 1) & (fate < 0.1)
    stage = np.array(STAGES, dtype=object)[furthest]
    stage[lost | recycled] = "nurture"
    stage[disqualified] = "disqualified"
    amount = np.round(rng.lognormal(9.5, 0.6, n), 2)
    changes: list[Any] = []
    for k in range(5):
        rows = np.nonzero(furthest >= k)[0]
        when = stamp(at[rows, k])
        frm = [None if k == 0 else STAGES[k - 1]] * rows.size
        before = [None] * rows.size if k == 0 else stamp(at[rows, k - 1])
        changes += zip(ids[rows].tolist(), frm, [STAGES[k]] * rows.size, when, before, strict=True)
    exits = np.nonzero(lost | recycled | disqualified)[0]
    exit_at = stamp(np.minimum(at[exits, furthest[exits]] + 3 * DAY_US, now - 1))
    for j, row in enumerate(exits.tolist()):
        to = "disqualified" if disqualified[row] else "nurture"
        entered = stamp(at[row : row + 1, furthest[row]])[0]
        changes.append((int(ids[row]), STAGES[furthest[row]], to, exit_at[j], entered))
    con.executemany(
        "INSERT INTO stage_changes (lead_id, from_stage, to_stage, at, previous_entered_at,"
        " reason, actor) VALUES (?, ?, ?, ?, ?, 'benchmark', 'system')",
        changes,
    )
    reasons = np.array(REASONS)[rng.integers(0, len(REASONS), n)]
    con.execute(
        "UPDATE stage_changes SET actor = 'rep' WHERE to_stage IN ('nurture', 'disqualified')"
    )
    closed = np.nonzero((furthest == 4) | lost)[0]
    closed_at = stamp(np.where(lost[closed], at[closed, 3] + 3 * DAY_US, at[closed, 4]))
    con.executemany(
        "UPDATE leads SET created_at = ?, stage = ?, reached_rank = ? WHERE id = ?",
        zip(stamp(created), stage.tolist(), (furthest + 1).tolist(), ids.tolist(), strict=True),
    )
    con.executemany(
        "UPDATE leads SET outcome = ?, outcome_amount = ?, outcome_reason = ?, closed_at = ?"
        " WHERE id = ?",
        ((("lost" if lost[r] else "won"), None if lost[r] else float(amount[r]), str(reasons[r]),
          closed_at[j], int(ids[r])) for j, r in enumerate(closed.tolist())),
    )  # fmt: skip
    reps = [(f"Rep {k}", f"rep{k}@bench.example", ("enterprise", "smb", "inbound")[k % 3])
            for k in range(20)]  # fmt: skip
    con.executemany("INSERT INTO reps (name, email, team, territories, capacity, weight,"
                    " working_hours, timezone, channels, active, created_at) VALUES"
                    " (?, ?, ?, '[]', 20, 1.0, 'mon-fri 09:00-17:00', 'UTC', '[]', TRUE, ?)",
                    [(*r, stamp(np.array([now]))[0]) for r in reps])  # fmt: skip
    sales_ready = np.nonzero(furthest >= 2)[0]
    touch = rng.exponential(120 * 60e6, sales_ready.size).astype(np.int64)
    touched = rng.random(sales_ready.size) < 0.9
    assigned = at[sales_ready, 2]
    status = np.where(~touched, "breached", np.where(touch < 240 * 60e6, "met", "breached"))
    con.executemany(
        "INSERT INTO assignments (lead_id, rep_id, team, stage, reason, hand_raiser,"
        " assigned_at, sla_due_at, first_touch_at, status, escalation_level)"
        " VALUES (?, ?, ?, 'sql', 'benchmark', FALSE, ?, ?, ?, ?, 0)",
        ((int(ids[r]), k % 20 + 1, reps[k % 20][2], s, d, t if touched[k] else None, st)
         for k, (r, s, d, t, st) in enumerate(zip(
             sales_ready.tolist(), stamp(assigned), stamp(assigned + 240 * 60_000_000),
             stamp(assigned + touch), status.tolist(), strict=True))),
    )  # fmt: skip
    con.finish()


MARK = "benchmark_reports_2"  # the closed loop and the migration are done
FROM_SQLITE = (
    "PostgreSQL only: build it by copying a finished SQLite build of the same sizes (PATH;"
    " by default this benchmark's own SQLite file when it is one) instead of from scratch;"
    " `no` to build from scratch"
)


def prepare(url: str, leads: int, events: int, seed: int, from_sqlite: Path | None) -> None:
    """The benchmark database, reused when built earlier; on PostgreSQL copied from the SQLite
    build `from_sqlite` when given one, else built from scratch."""
    if matches(url, leads, events, seed):
        engine = make_engine(url)
        with engine.connect() as connection:
            done = inspect(connection).has_table(MARK)
        engine.dispose()
        if done:
            print("reusing the database built earlier")
            upgrade(url)
            return
    started = time.perf_counter()
    if from_sqlite is not None and not url.startswith("sqlite"):
        print(f"copying the SQLite build {from_sqlite}", flush=True)
        empty_schema(url)
        copy_sqlite_build(from_sqlite, url, psycopg_connect)
    else:
        build_closed_loop(url, leads, events, seed)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {MARK} (done INTEGER)"))
    engine.dispose()
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def build_closed_loop(url: str, leads: int, events: int, seed: int) -> None:
    print(f"building {leads:,} leads, {events:,} events", flush=True)
    build(url, leads, events, seed)
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        rescore_all(session, parse_playbook(PLAYBOOK.read_text()), NOW)
    engine.dispose()
    closed_loop(url, seed)
    # The events were written raw; go back to 0003 and up again, so the real migration
    # fills in what the reports read (and is itself timed at this size).
    migrated = time.perf_counter()
    migrate(url, "0003")
    upgrade(url)
    print(f"migration 0003 -> 0004: {time.perf_counter() - migrated:.0f} s", flush=True)
    if not url.startswith("sqlite"):
        # The migration rewrote every event row: without this the reports would scan twice
        # the table (dead row versions) with stale statistics, which autovacuum clears on a
        # live server given time.
        with psycopg_connect(url, autocommit=True) as con:
            con.execute("VACUUM (ANALYZE)")


def source_build(
    wanted: str, db: str, sqlite_file: Path, leads: int, events: int, seed: int
) -> Path | None:
    """The SQLite build to copy into PostgreSQL: `--from-sqlite PATH` (it must be a finished
    build of these sizes at the code's migration heads), none with `--from-sqlite no`, and by
    default this benchmark's own SQLite build of the same sizes when it is a finished one."""
    if not db.startswith("postgres"):
        if wanted not in {"auto", "no"}:
            sys.exit("--from-sqlite: only a PostgreSQL database (--db postgresql...) is copied")
        return None
    if wanted == "no":
        return None
    path = sqlite_file if wanted == "auto" else Path(wanted)
    meta = {"leads": leads, "events": events, "seed": seed, "format": FORMAT_VERSION}
    problem = sqlite_build_problem(path, {k: str(v) for k, v in meta.items()}, MARK)
    if problem is None:
        return path
    if wanted != "auto":
        sys.exit(f"--from-sqlite: {problem}")
    if path.exists():
        print(f"not copying the SQLite build: {problem}", flush=True)
    return None


def migrate(url: str, revision: str) -> None:
    """Downgrade the benchmark database to `revision`."""
    engine = make_engine(url)
    downgrade(engine, revision)
    engine.dispose()


def time_reports(db: Database, runs: int, only: str | None) -> None:
    """Each report `runs` times: median wall seconds, then the median CPU seconds (user+sys)
    of this process and, on a PostgreSQL server started here, of the database server. The
    plan twice: as a stopped worker leaves it (`plan`: no snapshot, every visitor counted
    then) and as a running one does (`plan_snapshot`: its visitors from the snapshot the
    worker keeps, refreshed here first as the worker would, and that refresh's time shown)."""
    book = parse_playbook(PLAYBOOK.read_text())
    engine = make_engine(db.url)
    factory = make_session_factory(engine)
    names = [only] if only else [*reports.REPORTS, "plan", "plan_snapshot"]
    print(f"{'report':<14} {'median s':>9} {'CPU s':>6} {'db CPU s':>8}  runs (wall s)")
    for name in names:
        spent, cpu, db_cpu = [], [], []
        for _ in range(runs):
            with factory() as session, session.begin():
                if name.startswith("plan"):
                    _snapshots(session, book, taken=name == "plan_snapshot")
                before, db_before = cpu_seconds(), db.cpu()
                started = time.perf_counter()
                if name.startswith("plan"):
                    request = plan_service.PlanRequest(5_000_000, 15_000, "2025-Q2")
                    plan_service.build(session, request, NOW)
                else:
                    options = reports.Options(period=None)
                    reports.run(session, book, name, Cohort(), options, NOW + timedelta(0))
                spent.append(time.perf_counter() - started)
                cpu.append(cpu_seconds() - before)
                db_cpu.append(db.cpu() - db_before)
                session.rollback()  # the snapshots as they were
        figures = f"{statistics.median(spent):9.2f} {statistics.median(cpu):6.2f}"
        figures += f" {statistics.median(db_cpu):8.2f}" if db.server_pid else f" {'-':>8}"
        print(f"{name:<14} {figures}  {', '.join(f'{s:.2f}' for s in spent)}", flush=True)
    engine.dispose()


def _snapshots(session: Any, book: Any, *, taken: bool) -> None:
    """The pages' snapshots in this transaction: none, or taken at NOW as the worker takes
    them (what that took is printed: the worker's background cost, every minute at most)."""
    session.execute(delete(PageSnapshot))
    if taken:
        started = time.perf_counter()
        took_ms = snapshots.refresh(session, book, NOW)
        wall = time.perf_counter() - started
        print(f"  (the worker's snapshot refresh: {wall:.2f} s, {took_ms} ms computing)")


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """The build's sizes, seed and database, and the runs: what every benchmark on this
    build (reports, stage_pass) takes."""
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default="", help=HELP)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_build_arguments(parser)
    parser.add_argument("--only", default=None, help="One report (or plan).")
    parser.add_argument("--from-sqlite", default="auto", metavar="PATH|auto|no", help=FROM_SQLITE)
    args = parser.parse_args(argv)
    key = f"{args.leads}-{args.events}"
    sqlite_file = Path(tempfile.gettempdir()) / f"leadflow-reports-{key}.db"
    source = source_build(
        args.from_sqlite, args.db, sqlite_file, args.leads, args.events, args.seed
    )
    with database(args.db, sqlite_file=sqlite_file, keep_under=f"leadflow-reports-pg-{key}") as db:
        prepare(db.url, args.leads, args.events, args.seed, source)
        print(f"{machine()}, {db.describe()}")
        print(f"  load average {os.getloadavg()[0]:.1f} at the start (a shared machine: noisy)")
        time_reports(db, args.runs, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
