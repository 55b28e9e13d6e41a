#!/usr/bin/env python3
"""The stage pass of a bulk run over 1,000,000 leads and 10,000,000 events.

    python3 dev.py bench stage_pass [--leads 1000000] [--events 10000000] [--runs 3]
                                    [--db postgresql | --db postgresql://... | --db PATH]

`leadflow rescore`, `playbook apply` and imports re-score in bulk (`bench rescore`), then move
every open lead the playbook now qualifies (`lifecycle.advance_all`: the hand-raisers' events
since each lead's last stage change, the open leads' stored scores, the moves, the hand-offs).
This times that pass on the reports benchmark's database (built once and kept, see
`bench reports`), in a transaction rolled back, `--runs` times: wall and CPU of the whole
pass, of its look for hand-raisers' events alone, and, beside them, the bare read of the open
leads' score columns through sqlite3 (SQLite only: a same-machine baseline).
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _db import database
from reports import add_build_arguments, machine, prepare, source_build
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine
from leadflow.services import lifecycle, playbooks

AUTOMATIC = ("subscriber", "lead", "mql", "nurture")  # the stages a pass may move leads from


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _timed(url: str, work: Callable[[Session, Any], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of `work(session, playbook)` in a transaction rolled back."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            book = playbooks.active_playbook(session)
            wall, cpu = time.perf_counter(), _cpu()
            found = work(session, book)
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
            session.rollback()
    finally:
        engine.dispose()
    return wall, cpu, found


def _bare_read(path: str) -> float:
    """The open leads' score columns read through sqlite3: wall seconds."""
    connection = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        marks = ", ".join("?" * len(AUTOMATIC))
        connection.execute(
            "SELECT id, account_id, stage, fit, engagement, total, grade, persona,"
            f" recycle_until, email, probability FROM leads WHERE stage IN ({marks})"
            " ORDER BY id",
            AUTOMATIC,
        ).fetchall()
        return time.perf_counter() - started
    finally:
        connection.close()


def _report(label: str, runs: list[tuple[float, float]]) -> None:
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    print(
        f"  {label}: wall median {statistics.median(walls):.2f} s"
        f" ({', '.join(f'{w:.2f}' for w in walls)}), CPU median {statistics.median(cpus):.2f} s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_build_arguments(parser)
    args = parser.parse_args(argv)
    key = f"{args.leads}-{args.events}"
    sqlite_file = Path(tempfile.gettempdir()) / f"leadflow-reports-{key}.db"
    source = source_build("auto", args.db, sqlite_file, args.leads, args.events, args.seed)
    with database(args.db, sqlite_file=sqlite_file, keep_under=f"leadflow-reports-pg-{key}") as db:
        prepare(db.url, args.leads, args.events, args.seed, source)
        print(f"{machine()}, {db.describe()}")
        print(f"  load average {os.getloadavg()[0]:.1f} at the start")
        now = datetime.now(UTC)
        whole, raisers, moved = [], [], 0
        for _ in range(args.runs):
            wall, cpu, moves = _timed(
                db.url, lambda s, b: lifecycle.advance_all(s, b, now, actor="bench")
            )
            whole.append((wall, cpu))
            moved = sum(moves.values())
            wall, cpu, _ = _timed(db.url, lambda s, b: lifecycle.hand_raiser_events(s, b, now))
            raisers.append((wall, cpu))
        print(f"  {moved:,} leads moved by each pass")
        _report("the whole pass (advance_all)", whole)
        _report("of which the hand-raisers' events", raisers)
        if not db.is_postgresql:
            bare = [_bare_read(db.url.removeprefix("sqlite:///")) for _ in range(args.runs)]
            print(f"  baseline: the open leads' score columns through sqlite3, wall median"
                  f" {statistics.median(bare):.2f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
