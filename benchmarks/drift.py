#!/usr/bin/env python3
"""Time the drift report (the dashboard's calibration drift card) over many leads on SQLite.

    python3 dev.py bench drift [--leads 1000000] [--closed 50000] [--runs 3]

Builds a database once (reused while the sizes match): `--leads` leads, of which `--closed`
were won or lost this month carrying a probability from the served model (a logistic
scorecard row) and the rest are open; then runs the `drift` report and, as a same-machine
baseline, the `calibration` report (win rate by score decile over closed leads), each
`--runs` times (drift over this month's outcomes, calibration over every closed lead)
through the service the API, CLI and dashboard use. Prints wall and CPU time.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rescore import PLAYBOOK, cpu_seconds, machine

from leadflow.core.playbook_text import parse_playbook
from leadflow.core.report_math import Cohort
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.services import reports

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TRAINED = datetime(2026, 10, 1, tzinfo=UTC)
BASE = -1.0  # the model's intercept: every prediction it stored starts from it


def build(path: Path, leads: int, closed: int, seed: int) -> None:
    """The leads, the served model, and this month's outcomes (predictions 10 points high)."""
    path.unlink(missing_ok=True)
    upgrade(make_engine(f"sqlite:///{path}"))
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, size=leads)
    won = rng.random(leads) < np.clip(p - 0.1, 0, 1)
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    created = (TRAINED - timedelta(days=30)).strftime(stamp)
    month = NOW.replace(day=1, hour=0)
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO predictive_models (version, kind, bins, weights, intercept, behaviours,"
            " metrics, trees, active, created_at) VALUES (1, 'logistic scorecard', '[]', '[]',"
            " ?, '[]', ?, NULL, 1, ?)",
            (BASE, json.dumps({"calibration": []}), TRAINED.strftime(stamp)),
        )

        def rows() -> Iterator[tuple[Any, ...]]:
            for k in range(leads):
                logit = math.log(p[k] / (1 - p[k]))
                why = json.dumps({"base": BASE, "log_odds": logit, "contributions": {}})
                if k < closed:
                    at = (month + timedelta(seconds=int(k * 86400 * 20 / closed))).strftime(stamp)
                    outcome, stage = ("won", "customer") if won[k] else ("lost", "nurture")
                    yield (f"l{k}@bench.example", stage, outcome, at, round(p[k], 4), why,
                           created, created)  # fmt: skip
                else:
                    yield (f"l{k}@bench.example", "lead", None, None, round(p[k], 4), why,
                           created, created)  # fmt: skip

        con.executemany(
            "INSERT INTO leads (email, stage, outcome, closed_at, probability,"
            " probability_contributions, created_at, updated_at, attributes, contributions,"
            " fit, engagement, total, reached_rank, do_not_track)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', '[]', 0, 0, 0, -1, 0)",
            rows(),
        )
        con.execute(f"CREATE TABLE benchmark_drift_{leads}_{closed} (done INTEGER)")


def ready(path: Path, leads: int, closed: int) -> bool:
    if not path.exists():
        return False
    with sqlite3.connect(path) as con:
        marker = f"benchmark_drift_{leads}_{closed}"
        found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return con.execute(found, (marker,)).fetchone() is not None


def time_reports(path: Path, runs: int) -> None:
    book = parse_playbook(PLAYBOOK.read_text())
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    print(f"{'report':<12} {'wall s':>8} {'cpu s':>8}  runs (wall)")
    for name in ("drift", "calibration"):
        walls, cpus, result = [], [], {}
        for _ in range(runs):
            with factory() as session:
                cpu, started = cpu_seconds(), time.perf_counter()
                # the baseline over every closed lead (its period would be leads created)
                options = reports.Options(period="2026-11" if name == "drift" else None)
                result = reports.run(session, book, name, Cohort(), options, NOW)
                walls.append(time.perf_counter() - started)
                cpus.append(cpu_seconds() - cpu)
        print(f"{name:<12} {statistics.median(walls):8.2f} {statistics.median(cpus):8.2f}  "
              f"{', '.join(f'{s:.2f}' for s in walls)}", flush=True)  # fmt: skip
        if name == "drift":
            print(f"  {result['verdict']}")
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--closed", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args(argv)
    if not 0 < args.closed <= args.leads:
        parser.error("--closed: between 1 and --leads")
    path = args.db or Path(tempfile.gettempdir()) / f"leadflow-drift-{args.leads}.db"
    if not ready(path, args.leads, args.closed):
        started = time.perf_counter()
        build(path, args.leads, args.closed, args.seed)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    print(machine())
    time_reports(path, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
