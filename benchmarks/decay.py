#!/usr/bin/env python3
"""The worker's decay refresh from stored rule states (no events read), on SQLite.

    python3 dev.py bench decay [--leads 1000000] [--baseline] [--keep] [--repeat 4]

Builds a fresh SQLite database with the B2B example playbook and `--leads` leads, each with a
state for a few engagement rules (a decayed sum, a window, a count; written with sqlite3 in
bulk) and the stored score those states give at the start (setup, not measured), then times
one worker pass (`decay_refresh.plan` and `write`: only the leads with a state whose points may
have moved read, aged, the leads whose shown score moved written with their ledger and
accounts) 5 minutes later (the worker's cadence; again with the hourly search for leads
without states, which reads every lead) and 6 hours later, each rolled back (the first
`--repeat` times: a worker is a long-lived process, whose passes after its first are what
it costs from then on); each pass is then written again as the worker writes it, in parts
of `DECAY_PART` leads, each part's write timed (a tracking call waits for at most one
part). `--baseline` also times the read it replaced (states row by row through the driver)
on the same database. `--keep` builds the
database once (`leadflow-decay-LEADS.db` in the temporary folder) and times the passes on it
in later runs too: every pass is rolled back, so it stays as built.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from leadflow.core import bulk_state
from leadflow.core.bulk_events import scaled_array, split_array
from leadflow.core.engagement_state import STEP, UP, epoch_micros, half_life_micros
from leadflow.core.playbook_text import parse_playbook
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.repositories import rule_state
from leadflow.services import decay_refresh, playbooks
from leadflow.services.engagement_state import MARKER, rule_keys
from leadflow.worker import DECAY_PART

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "examples" / "b2b_saas.yaml"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
STAMP = "2026-11-01 12:00:00.000000"
RULES = ("page_view", "pricing_page", "active_week", "unsubscribed")


def build(path: Path, leads: int) -> None:
    """Leads and their states, inserted with sqlite3 (setup, not measured)."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with make_session_factory(engine)() as session, session.begin():
        playbooks.install(session, PLAYBOOK.read_text(), author="bench", now=NOW)
    engine.dispose()
    book = parse_playbook(PLAYBOOK.read_text())
    keys, whole = rule_keys(book)
    rules = {r.id: r for r in book.engagement.rules}
    rng = np.random.default_rng(1)
    con = sqlite3.connect(path)
    ids = np.arange(1, leads + 1)
    con.executemany(
        "INSERT INTO leads (id, email, attributes, stage, reached_rank, fit, engagement, total,"
        " score_band, grade, contributions, scored_at, created_at, updated_at, decay_due)"
        " VALUES (?, ?, '{}', 'subscriber', -1, 20.0, 1.0, 21.0, 20, 'B4', ?, ?, ?, ?, 0)",
        (
            (i, f"p{i}@x.example", '[{"rule": "senior", "label": "Senior", "kind": "fit", '
             '"points": 20.0}]', STAMP, STAMP, STAMP)
            for i in ids.tolist()
        ),
    )  # fmt: skip
    rows: list[tuple[Any, ...]] = [
        (i, MARKER, whole, 0, None, None, None, "[[], []]", "[]") for i in ids.tolist()
    ]
    now_us = epoch_micros(NOW)
    for rule_id in RULES:
        rule = rules[rule_id]
        has = ids[rng.random(leads) < 0.6]
        times = now_us - (rng.uniform(0, 30, len(has)) * 86_400e6).astype(np.int64)
        count = rng.integers(1, 30, len(has))
        band: list[int | None] = [None] * len(has)
        anchored: list[float | None] = [None] * len(has)
        window: list[int | None] = [None] * len(has)
        if rule.window is not None:
            full = rng.random(len(has)) < 0.5
            window = [int(t) if f else None for t, f in zip(times, full, strict=True)]
        elif rule.decay:
            h_us = half_life_micros(book.engagement.half_life_days or 30)
            whole_hl, steps = split_array(times, h_us)
            bands = whole_hl // STEP
            terms = scaled_array(np.full(len(has), rule.points), steps, UP) * count
            anchored = np.ldexp(terms, (whole_hl - bands * STEP).astype(np.int32)).tolist()
            band = bands.tolist()
        latest = json.dumps([[int(times[0]), "1"]])
        figures = zip(has.tolist(), count.tolist(), band, anchored, window, strict=True)
        rows += [
            (i, rule_id, keys[rule_id], c, b, a, w, "[[], []]", latest) for i, c, b, a, w in figures
        ]
    con.executemany(
        "INSERT INTO rule_states (lead_id, rule_id, rule_key, count, band, anchored,"
        " window_from, partials, latest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children (the ADBC reads)."""
    mine, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _timed_pass(engine: Any, book: Any, at: datetime, label: str, *, stateless: bool) -> float:
    """One refresh at `at` (`stateless`: with the hourly search for leads without states),
    rolled back: wall and CPU time, and what it read and wrote; then the same pass written in
    the worker's parts, each part's write timed (how long a tracking call can wait for it).
    The refresh's CPU time."""
    with make_session_factory(engine)() as session, session.begin():
        wall, cpu = time.perf_counter(), _cpu()
        planned = decay_refresh.plan(session, book, at, find_stateless=stateless)
        result = decay_refresh.write(session, book, planned, at)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in result.phases.items())
        print(
            f"{label}: {result.leads:,} leads read and aged, {result.changed:,} written:"
            f" wall {wall:.2f} s, CPU {cpu:.2f} s ({phases})"
        )
        session.rollback()
    with make_session_factory(engine)() as session, session.begin():
        took = []
        for part in decay_refresh.parts(planned, DECAY_PART):
            started = time.perf_counter()
            decay_refresh.write(session, book, part, at)
            took.append(time.perf_counter() - started)
        print(
            f"  written in {len(took)} parts of at most {DECAY_PART:,} leads (the worker's):"
            f" longest {max(took) * 1000:.0f} ms, median {float(np.median(took)) * 1000:.0f} ms,"
            f" all {sum(took):.2f} s"
        )
        session.rollback()
    return cpu


def _baseline(engine: Any, book: Any, at: datetime, leads: int) -> None:
    """The read it replaces: the same states row by row through the driver, then aged."""
    rule_ids = [*(rule.id for rule in book.engagement.rules), MARKER]
    with make_session_factory(engine)() as session, session.begin():
        wall, cpu = time.perf_counter(), _cpu()
        rows = rule_state.state_rows(session, rule_ids, rule_keys(book)[1], None)
        table = np.array(rows, np.float64).reshape(len(rows), 7)
        read = time.perf_counter() - wall
        keep = (table[:, 1] >= 0) & (table[:, 1] < len(book.engagement.rules))
        columns = bulk_state.StateColumns(
            table[keep, 0].astype(np.int64) - 1,
            table[keep, 1].astype(np.int64),
            table[keep, 3].astype(np.int64),
            table[keep, 4].astype(np.int64),
            table[keep, 5],
            table[keep, 6].astype(np.int64),
        )
        ids = np.arange(1, leads + 1, dtype=np.int64)
        decay_refresh.age(book, columns, ids, np.full(leads, 20.0), at)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        print(
            f"baseline (states read row by row, then aged; no writes): wall {wall:.2f} s"
            f" (read {read:.2f} s), CPU {cpu:.2f} s"
        )


def _set_up(path: Path, leads: int) -> None:
    """Build the database at `path` with the scores its states give at the start."""
    started = time.perf_counter()
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    build(building, leads)
    engine = make_engine(f"sqlite:///{building}")
    with make_session_factory(engine)() as session, session.begin():
        # The stored scores the states give at NOW, as live scoring would have left them, and
        # every state's moment of change (what the worker's first pass after an upgrade does).
        decay_refresh.refresh(session, parse_playbook(PLAYBOOK.read_text()), NOW)
    engine.dispose()
    building.rename(path)  # only a finished build is ever reused
    print(f"setup: {leads:,} leads with states in {time.perf_counter() - started:.1f} s")


def _run(path: Path, leads: int, baseline: bool, repeat: int) -> None:
    """Build the database at `path` unless it is there, then time the passes."""
    if path.exists():
        migrating = make_engine(f"sqlite:///{path}")
        upgrade(migrating)
        migrating.dispose()
        print(f"setup: {leads:,} leads with states, built earlier ({path.name})")
    else:
        _set_up(path, leads)
    engine = make_engine(f"sqlite:///{path}")
    book = parse_playbook(PLAYBOOK.read_text())
    system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{system}, Python {platform.python_version()}, SQLite; load average {load}")
    # The worker is a long-lived process: its pass costs, from the second on, what the later
    # ones print (the first also fills caches and compiles its statements).
    every = [
        _timed_pass(engine, book, NOW + timedelta(minutes=5), f"5 minutes later (the worker's"
                    f" pass, {k + 1} of {repeat})", stateless=False)
        for k in range(repeat)
    ]  # fmt: skip
    later = every[1:] or every
    print(f"  the worker's pass: CPU {every[0]:.2f} s the first time, median"
          f" {float(np.median(later)):.2f} s of the {len(later)} after")  # fmt: skip
    passes = (
        (timedelta(minutes=5), "5 minutes later, with the hourly search for stateless leads", True),
        (timedelta(hours=6), "6 hours later", False),
    )
    for after, label, stateless in passes:
        _timed_pass(engine, book, NOW + after, label, stateless=stateless)
    if baseline:
        _baseline(engine, book, NOW + timedelta(hours=6), leads)
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--baseline", action="store_true", help="also time the row-by-row read")
    parser.add_argument("--keep", action="store_true", help="build once, reuse in later runs")
    parser.add_argument(
        "--repeat", type=int, default=4, help="times the worker's 5-minute pass (default 4)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    if args.keep:
        _run(Path(tempfile.gettempdir()) / f"leadflow-decay-{args.leads}.db", args.leads,
             args.baseline, args.repeat)  # fmt: skip
        return 0
    path = Path(tempfile.mkdtemp(prefix="leadflow-decay-bench-")) / "bench.db"
    try:
        _run(path, args.leads, args.baseline, args.repeat)
    finally:  # 1.2 GB at a million leads: not left in the temporary directory
        shutil.rmtree(path.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
