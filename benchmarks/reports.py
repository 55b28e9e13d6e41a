#!/usr/bin/env python3
"""Time every report (and the plan) over 1,000,000 leads and 10,000,000 events on SQLite.

    python3 dev.py bench reports [--leads 1000000] [--events 10000000] [--runs 3] [--only NAME]

Builds the database once (the re-score benchmark's leads, accounts and events, scored by
`leadflow rescore`, then a closed-loop history drawn from the scores: stage changes, outcomes,
hand-offs to 20 reps, sales touches) and reuses it while the sizes match. Each report runs
`--runs` times in-process through the same service the API and CLI use; the median is shown.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rescore import NOW, PLAYBOOK, build, machine, matches

from leadflow.core.playbook_text import parse_playbook
from leadflow.core.report_math import Cohort
from leadflow.models.db import downgrade, make_engine, make_session_factory, upgrade
from leadflow.services import plan as plan_service
from leadflow.services import reports
from leadflow.services.rescore import rescore_all

DAY_US = 86_400_000_000
STAGES = ("lead", "mql", "sql", "opportunity", "customer")
REASONS = ("no budget", "bad timing", "no authority", "student", "competitor customer")


def stamp(micros: np.ndarray) -> list[str]:
    """SQLite's stored timestamp text for microseconds since the epoch."""
    values = micros.astype("datetime64[us]").astype(str)
    return [v.replace("T", " ") + ("" if "." in v else ".000000") for v in values]


def closed_loop(path: Path, seed: int) -> None:
    """Stages, outcomes, hand-offs and touches drawn from the leads' scores."""
    rng = np.random.default_rng(seed + 1)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
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
    con.execute("BEGIN")
    changes = []
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
                    " (?, ?, ?, '[]', 20, 1.0, 'mon-fri 09:00-17:00', 'UTC', '[]', 1, ?)",
                    [(*r, stamp(np.array([now]))[0]) for r in reps])  # fmt: skip
    sales_ready = np.nonzero(furthest >= 2)[0]
    touch = rng.exponential(120 * 60e6, sales_ready.size).astype(np.int64)
    touched = rng.random(sales_ready.size) < 0.9
    assigned = at[sales_ready, 2]
    status = np.where(~touched, "breached", np.where(touch < 240 * 60e6, "met", "breached"))
    con.executemany(
        "INSERT INTO assignments (lead_id, rep_id, team, stage, reason, hand_raiser,"
        " assigned_at, sla_due_at, first_touch_at, status, escalation_level)"
        " VALUES (?, ?, ?, 'sql', 'benchmark', 0, ?, ?, ?, ?, 0)",
        ((int(ids[r]), k % 20 + 1, reps[k % 20][2], s, d, t if touched[k] else None, st)
         for k, (r, s, d, t, st) in enumerate(zip(
             sales_ready.tolist(), stamp(assigned), stamp(assigned + 240 * 60_000_000),
             stamp(assigned + touch), status.tolist(), strict=True))),
    )  # fmt: skip
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()


def prepare(path: Path, leads: int, events: int, seed: int) -> None:
    if matches(path, leads, events, seed):
        with sqlite3.connect(path) as con:
            done = con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'benchmark_reports_2'"
            ).fetchone()
        if done:
            print(f"reusing {path}")
            return
    print(f"building {path} ({leads:,} leads, {events:,} events)", flush=True)
    started = time.perf_counter()
    build(path, leads, events, seed)
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as session, session.begin():
        rescore_all(session, parse_playbook(PLAYBOOK.read_text()), NOW)
    engine.dispose()
    closed_loop(path, seed)
    # The events were written raw; go back to 0003 and up again, so the real migration
    # fills in what the reports read (and is itself timed at this size).
    migrated = time.perf_counter()
    migrate(path, "0003")
    upgrade(f"sqlite:///{path}")
    print(f"migration 0003 -> 0004: {time.perf_counter() - migrated:.0f} s", flush=True)
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE benchmark_reports_2 (done INTEGER)")
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def migrate(path: Path, revision: str) -> None:
    """Downgrade the benchmark database to `revision`."""
    engine = make_engine(f"sqlite:///{path}")
    downgrade(engine, revision)
    engine.dispose()


def time_reports(path: Path, runs: int, only: str | None) -> None:
    book = parse_playbook(PLAYBOOK.read_text())
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    names = [only] if only else [*reports.REPORTS, "plan"]
    print(f"{'report':<14} {'median s':>9}  runs")
    for name in names:
        spent = []
        for _ in range(runs):
            with factory() as session:
                started = time.perf_counter()
                if name == "plan":
                    request = plan_service.PlanRequest(5_000_000, 15_000, "2025-Q2")
                    plan_service.build(session, request, NOW)
                else:
                    options = reports.Options(period=None)
                    reports.run(session, book, name, Cohort(), options, NOW + timedelta(0))
                spent.append(time.perf_counter() - started)
        print(f"{name:<14} {statistics.median(spent):9.2f}  {', '.join(f'{s:.2f}' for s in spent)}",
              flush=True)  # fmt: skip
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default=None, help="One report (or plan).")
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args(argv)
    path = args.db or Path(tempfile.gettempdir()) / (
        f"leadflow-reports-{args.leads}-{args.events}.db"
    )
    prepare(path, args.leads, args.events, args.seed)
    print(machine())
    time_reports(path, args.runs, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
