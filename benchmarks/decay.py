#!/usr/bin/env python3
"""The worker's decay refresh from stored rule states (no events read), on SQLite.

    python3 dev.py bench decay [--leads 1000000] [--batch 10000]

Builds a fresh SQLite database with the B2B example playbook and `--leads` leads, each with a
state for a few engagement rules (a decayed sum, a window, a count; written with sqlite3 in
bulk, as a re-score would leave them), then measures:

1. age every lead: read the states of all of them and compute every score at a later moment
   (`decay_refresh.age`, the part that used to read and re-match every event);
2. one worker pass (`decay_refresh.refresh`) over `--batch` leads: read, age, write the
   leads' scores and ledger, recount their accounts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from leadflow.core.bulk_events import scaled_array, split_array
from leadflow.core.engagement_state import STEP, UP, epoch_micros, half_life_micros
from leadflow.core.playbook_text import parse_playbook
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.services import decay_refresh, playbooks
from leadflow.services.engagement_state import MARKER, rule_keys

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
        " grade, contributions, scored_at, created_at, updated_at)"
        " VALUES (?, ?, '{}', 'subscriber', -1, 20.0, 1.0, 21.0, 'B4', ?, ?, ?, ?)",
        (
            (i, f"p{i}@x.example", '[{"rule": "senior", "label": "Senior", "kind": "fit", '
             '"points": 20.0}]', STAMP, STAMP, STAMP)
            for i in ids.tolist()
        ),
    )  # fmt: skip
    rows = [(i, MARKER, whole, 0, None, None, None, "[[], []]", "[]") for i in ids.tolist()]
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args(argv)
    path = Path(tempfile.mkdtemp(prefix="leadflow-decay-bench-")) / "bench.db"
    started = time.perf_counter()
    build(path, args.leads)
    print(f"setup: {args.leads:,} leads with states in {time.perf_counter() - started:.1f} s")
    system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{system}, Python {platform.python_version()}, SQLite; load average {load}")
    engine = make_engine(f"sqlite:///{path}")
    later = NOW + timedelta(hours=6)
    book = parse_playbook(PLAYBOOK.read_text())
    with make_session_factory(engine)() as session, session.begin():
        t0 = time.perf_counter()
        states = decay_refresh.state_table(session, book, None)
        t1 = time.perf_counter()
        ids = np.arange(1, args.leads + 1, dtype=np.int64)
        aged = decay_refresh.age(book, states, ids, np.full(args.leads, 20.0), later)
        t2 = time.perf_counter()
        print(
            f"age all {args.leads:,} leads: {t2 - t0:.2f} s (read states {t1 - t0:.2f} s,"
            f" score {t2 - t1:.2f} s); {int((aged.engagement > 0).sum()):,} engaged"
        )
        batch = list(range(1, min(args.batch, args.leads) + 1))
        t3 = time.perf_counter()
        result = decay_refresh.refresh(session, book, later, batch)
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in result.phases.items())
        print(
            f"worker pass over {len(batch):,} leads (read, age, write, ledger, accounts):"
            f" {time.perf_counter() - t3:.2f} s ({phases})"
        )
        session.rollback()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
