#!/usr/bin/env python3
"""One `/v1/track` for a lead with a long history vs one for a new lead: acknowledgement latency.

    python3 dev.py bench hot_lead [--history 100000] [--calls 300]

Starts `leadflow serve` on a fresh SQLite database with the B2B example playbook, identifies
one person through `/v1/identify`, gives them `--history` past events by a bulk insert (page
views, pricing visits, clicks, downloads over 90 days), re-scores in bulk and builds their
scoring state (what `rescore` and the first event do), then sends, one after the other,
`--calls` tracking calls alternating between that lead and a brand-new person each time, and
reports p50/p99 of each and their ratio (the target: under 2).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from ingest import LEADFLOW, PAGES, PLAYBOOK, TRACKS, free_port, leadflow, wait_until_healthy

HOT = "hot.lead@bigco.example"


def history_rows(lead_id: int, count: int, now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for k in range(count):
        at = now - timedelta(days=rng.uniform(0, 90))
        page = rng.random() < 0.7
        path = rng.choice(PAGES)
        rows.append(
            {
                "lead_id": lead_id,
                "anonymous_id": "user:" + HOT,
                "source": "bench",
                "message_id": f"past-{k}",
                "type": "page" if page else "track",
                "name": None if page else rng.choice(TRACKS),
                "properties": {"path": path} if page else {},
                "context": {},
                "occurred_at": at,
                "received_at": at,
            }
        )
    return rows


def load_history(url: str, count: int) -> float:
    """Give the hot lead `count` past events, re-score, build the state; seconds taken."""
    from sqlalchemy import select

    from leadflow.models.db import make_engine, make_session_factory
    from leadflow.models.lead import Lead
    from leadflow.repositories import events as event_repo
    from leadflow.services import engagement_state, playbooks
    from leadflow.services.rescore import rescore_all

    started = time.perf_counter()
    engine = make_engine(url)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as session, session.begin():
        lead_id = session.scalar(select(Lead.id).where(Lead.email == HOT))
        assert lead_id is not None, "the identify did not create the lead"
        event_repo.insert_many(session, history_rows(lead_id, count, now))
        book = playbooks.active_playbook(session)
        rescore_all(session, book, now, lead_ids=[lead_id])
        engagement_state.states_for(session, book, [lead_id], {}, now)
    engine.dispose()
    return time.perf_counter() - started


def track(client: httpx.Client, user: str) -> float:
    now = datetime.now(UTC).isoformat()
    call = {"userId": user, "event": "Email Clicked", "messageId": uuid.uuid4().hex}
    started = time.perf_counter()
    response = client.post("/v1/track", json={**call, "timestamp": now, "sentAt": now})
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def measure(base: str, key: str, args: argparse.Namespace, database: str) -> None:
    with httpx.Client(base_url=base, auth=(key, ""), timeout=60) as client:
        identify = {"userId": HOT, "traits": {"email": HOT, "title": "VP Operations"}}
        client.post("/v1/identify", json=identify).raise_for_status()
        seconds = load_history(database, args.history)
        print(f"history: {args.history:,} events stored, re-scored, state built: {seconds:.1f} s")
        hot, new = [], []
        for k in range(args.calls + 10):
            hot_ms = track(client, HOT)
            new_ms = track(client, f"new{k}@person{k}.example")
            if k >= 10:  # the first few warm connections and caches
                hot.append(hot_ms)
                new.append(new_ms)
    hot_p = np.percentile(hot, [50, 99])
    new_p = np.percentile(new, [50, 99])
    print(f"lead with {args.history:,} past events: p50 {hot_p[0]:.1f} ms, p99 {hot_p[1]:.1f} ms")
    print(f"new lead each call:            p50 {new_p[0]:.1f} ms, p99 {new_p[1]:.1f} ms")
    ratio = hot_p / new_p
    verdict = "ok" if ratio.max() < 2 else "OVER 2"
    print(f"ratio hot/new: p50 {ratio[0]:.2f}, p99 {ratio[1]:.2f} ({verdict}; target under 2)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="leadflow-hot-lead-bench-"))
    database = f"sqlite:///{folder / 'bench.db'}"
    env = {**os.environ, "LEADFLOW_DATABASE_URL": database}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "bench")
    port = free_port()
    server = subprocess.Popen(
        [str(LEADFLOW), "serve", "--port", str(port), "--log-level", "warning"], env=env
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, seconds=120)
        system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{system}, Python {platform.python_version()}, SQLite; load average {load}")
        measure(base, key, args, database)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
