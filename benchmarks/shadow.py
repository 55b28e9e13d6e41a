#!/usr/bin/env python3
"""What a shadow playbook adds to one live event: the live pipeline with and without it.

    python3 dev.py bench shadow [--leads 300] [--events 600]

Builds two identical SQLite databases (the B2B example playbook, `--leads` leads at a few
companies), runs a candidate in the shadow in one of them (different engagement half-life and
MQL bar, so it keeps its own states), then feeds the same `--events` events one at a time,
each in its own transaction, through `pipeline.run_live` (what `/api/events` does after it
stores the events) and reports wall and CPU time per event for both, and their difference.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from leadflow.models import Event, Lead
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.repositories import events as event_repo
from leadflow.services import leads as lead_service
from leadflow.services import playbooks, shadow
from leadflow.services.pipeline import run_live

ROOT = Path(__file__).resolve().parents[1]
ACTIVE = (ROOT / "examples" / "b2b_saas.yaml").read_text()
CANDIDATE = ACTIVE.replace("{field: engagement, gte: 30}", "{field: engagement, gte: 10}").replace(
    "half_life_days: 30", "half_life_days: 9"
)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PATHS = ["/pricing", "/docs", "/blog/ops", "/case-studies", "/integrations"]


def build(url: str, leads: int, with_shadow: bool) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session, session.begin():
        playbooks.apply(session, ACTIVE, author="bench", now=NOW - timedelta(days=30))
        titles = ["VP Operations", "IT Manager", "Founder", "Intern", None]
        for i in range(leads):
            session.add(Lead(email=f"p{i}@co{i % 40}.example", title=titles[i % len(titles)]))
        if with_shadow:
            shadow.start(session, CANDIDATE, author="bench", now=NOW - timedelta(days=30))
    engine.dispose()


def event_row(rng: random.Random, k: int, lead_id: int, at: datetime) -> dict[str, Any]:
    page = rng.random() < 0.7
    return {
        "lead_id": lead_id, "anonymous_id": None, "source": "bench", "message_id": f"e{k}",
        "type": "page" if page else "track",
        "name": None if page else rng.choice(["Webinar Attended", "Whitepaper Downloaded"]),
        "properties": {"path": rng.choice(PATHS)} if page else {}, "context": {},
        "occurred_at": at, "received_at": at,
    }  # fmt: skip


def feed(url: str, events: int) -> tuple[float, float]:
    """Wall and CPU seconds spent in `run_live` over all events (storing them not counted)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(3)
    wall = cpu = 0.0
    with factory() as session:
        ids = list(session.scalars(select(Lead.id)))
    moment = NOW - timedelta(days=20)
    for k in range(events):
        moment += timedelta(minutes=rng.uniform(1, 60))
        lead_id = rng.choice(ids)
        with factory() as session, session.begin():
            book = playbooks.active_playbook(session)
            stored = event_repo.insert_new(session, [event_row(rng, k, lead_id, moment)])
            rows = session.scalars(select(Event).where(Event.id.in_(stored.values())))
            facts = [lead_service.event_facts(e) for e in rows]
            w, c = time.perf_counter(), time.process_time()
            run_live(session, book, [lead_id], moment, new_events={lead_id: facts}, cause="event")
            wall += time.perf_counter() - w
            cpu += time.process_time() - c
    engine.dispose()
    return wall, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--events", type=int, default=600)
    args = parser.parse_args(argv)
    system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{system}, Python {platform.python_version()}, SQLite; load average {load}")
    folder = Path(tempfile.mkdtemp(prefix="leadflow-shadow-bench-"))
    results = {}
    for name, with_shadow in (("without shadow", False), ("with shadow", True)):
        url = f"sqlite:///{folder / (name.replace(' ', '_') + '.db')}"
        build(url, args.leads, with_shadow)
        wall, cpu = feed(url, args.events)
        results[name] = (wall, cpu)
        per = 1000 / args.events
        print(f"{name:>15}: run_live per event {wall * per:.2f} ms wall, {cpu * per:.2f} ms CPU")
    (w0, c0), (w1, c1) = results["without shadow"], results["with shadow"]
    per = 1000 / args.events
    added = f"{(w1 - w0) * per:.2f} ms wall, {(c1 - c0) * per:.2f} ms CPU"
    print(f"the shadow step adds {added} per event")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
