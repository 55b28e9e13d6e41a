#!/usr/bin/env python3
"""A hand-off after a long history of hand-offs vs on day one: a demo request's acknowledgement.

    python3 dev.py bench handoff_history [--past 200000] [--requests 300]

Starts `leadflow serve` (no worker) on a fresh SQLite database with the B2B example playbook
and four always-on inbound reps, sends `--requests` demo requests from new people one after
the other (each: a new lead, sales-ready, routed to the least loaded rep, an SLA deadline, its
alerts queued) and notes each acknowledgement; then gives the reps `--past` earlier hand-offs
(bulk insert, over the past year) and sends as many again. Routing reads each rep's load today
and last hand-off: its cost should not grow with the company's history (the ratio near 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from ingest import LEADFLOW, PLAYBOOK, free_port, leadflow, wait_until_healthy

REPS = 4
ALWAYS = ["--team", "inbound", "--hours", "mon-sun 00:00-23:59", "--capacity", "10000"]


def demo_requests(client: httpx.Client, first: int, count: int) -> np.ndarray:
    """Milliseconds to acknowledge each of `count` demo requests from new people."""
    taken = []
    for k in range(first, first + count):
        email = f"buyer{k}@history-bench-{k}.example"
        demo = {"type": "track", "userId": email, "event": "Demo Requested"}
        body = json.dumps({"batch": [demo]})
        started = time.perf_counter()
        response = client.post("/v1/batch", content=body)
        taken.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return np.array(taken)


def add_past_hand_offs(database: str, count: int) -> float:
    """`count` hand-offs to the reps over the past year (of the leads already there)."""
    from sqlalchemy import insert, select

    from leadflow.models.assignment import Assignment
    from leadflow.models.db import make_engine, make_session_factory
    from leadflow.models.lead import Lead
    from leadflow.models.rep import Rep

    started = time.perf_counter()
    engine = make_engine(database)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as session, session.begin():
        lead_ids = list(session.scalars(select(Lead.id)))
        rep_ids = list(session.scalars(select(Rep.id)))
        for first in range(0, count, 50_000):
            rows = [
                {"lead_id": lead_ids[k % len(lead_ids)], "rep_id": rep_ids[k % len(rep_ids)],
                 "team": "inbound", "stage": "sql", "reason": "bench", "hand_raiser": True,
                 "assigned_at": now - timedelta(days=2 + k % 363, minutes=k % 1440),
                 "status": "met", "escalation_level": 0}
                for k in range(first, min(count, first + 50_000))
            ]  # fmt: skip
            session.execute(insert(Assignment), rows)
    engine.dispose()
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--past", type=int, default=200_000, help="earlier hand-offs to add")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="leadflow-handoff-history-bench-"))
    database = f"sqlite:///{folder / 'bench.db'}"
    env = {**os.environ, "LEADFLOW_DATABASE_URL": database}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "bench")
    for k in range(REPS):
        leadflow(env, "reps", "add", f"rep{k}@bench.example", "--name", f"Rep {k}", *ALWAYS)
    port = free_port()
    serve = [str(LEADFLOW), "serve", "--port", str(port), "--log-level", "warning", "--no-worker"]
    server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, seconds=120)
        system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{system}, Python {platform.python_version()}, SQLite; load average {load}")
        with httpx.Client(base_url=base, auth=(key, ""), timeout=60) as client:
            demo_requests(client, 0, 10)  # warm connections and caches
            fresh = demo_requests(client, 10, args.requests)
            seconds = add_past_hand_offs(database, args.past)
            print(f"{args.past:,} earlier hand-offs added in {seconds:.1f} s")
            later = demo_requests(client, 10 + args.requests, args.requests)
    finally:
        server.terminate()
        server.wait(timeout=30)
    day_one, busy = np.percentile(fresh, [50, 99]), np.percentile(later, [50, 99])
    print(f"demo request, {REPS} reps and no earlier hand-offs: p50 {day_one[0]:.1f} ms, "
          f"p99 {day_one[1]:.1f} ms")  # fmt: skip
    print(f"demo request after {args.past:,} earlier hand-offs: p50 {busy[0]:.1f} ms, "
          f"p99 {busy[1]:.1f} ms")  # fmt: skip
    ratio = busy / day_one
    print(f"ratio after/before: p50 {ratio[0]:.2f}, p99 {ratio[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
