#!/usr/bin/env python3
"""Event -> alert: from a demo request sent to /v1 to the signed alert at a webhook receiver.

    python3 dev.py bench alert_latency [--seconds 20] [--rate 1000] [--every 0.5] [--warmup 5]
                                       [--db postgresql | --db postgresql://...]
                                       [--server-workers N]

Starts `leadflow serve` (one process, its worker inside; with `--server-workers N`, N server
processes beside one `leadflow worker` process: PostgreSQL only) on a fresh database (SQLite
unless `--db`, see benchmarks/_db.py) with the
B2B example playbook, an always-on inbound rep and a webhook endpoint at a local receiver.
While an open-loop background load of `--rate` tracking events/s runs (one event per request),
a new lead sends a demo request every `--every` seconds; the latency is from sending that
request to the receiver getting the verified `lead.sales_ready` alert for that lead. The first
`--warmup` seconds (load and demo requests alike) are not counted: the first alert after a
start is printed apart (its process compiles its statements then). Prints
the CPU time (user+sys) of the leadflow server and, on a PostgreSQL server started for the
run, of the database server, over the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from standardwebhooks import Webhook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database
from ingest import (
    CPU,
    PLAYBOOK,
    SERVER_WORKERS_HELP,
    RawConnection,
    body,
    free_port,
    leadflow,
    processes_shown,
    start_leadflow,
    stop_leadflow,
    wait_until_healthy,
    wait_until_settled,
)


class Receiver:
    """Verifies each alert and notes when the one for each lead arrived."""

    def __init__(self) -> None:
        self.secret = ""
        self.arrived: dict[str, float] = {}
        self.bad = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["content-length"]))
                try:
                    alert = Webhook(receiver.secret).verify(data, dict(self.headers.items()))
                    if alert["type"] == "lead.sales_ready":
                        email = alert["data"]["lead"]["email"]
                        receiver.arrived.setdefault(email, time.perf_counter())
                except Exception:
                    receiver.bad += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def run(url: str, key: str, receiver: Receiver, args: argparse.Namespace, cpu: CPU) -> None:
    host, port = url.removeprefix("http://").split(":")
    import base64

    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    idle: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(RawConnection(host, int(port), auth))
    rng = random.Random(3)
    count = int(args.rate * (args.warmup + args.seconds))
    load = [body(rng, 1) for _ in range(count)]
    sent: dict[str, float] = {}
    start = time.perf_counter() + 0.5
    measured_from = start + args.warmup  # demo requests sent before are warm-up, not counted

    async def post(payload: bytes) -> None:
        connection = await idle.get()
        await connection.post("/v1/batch", payload)
        idle.put_nowait(connection)

    async def background(k: int) -> None:
        await asyncio.sleep(max(0.0, start + k / args.rate - time.perf_counter()))
        await post(load[k])

    async def demo(k: int) -> None:
        await asyncio.sleep(max(0.0, start + k * args.every - time.perf_counter()))
        email = f"buyer{k}@alert-bench-{k}.example"
        batch = [{"type": "track", "userId": email, "event": "Demo Requested"}]
        sent[email] = time.perf_counter()
        await post(json.dumps({"batch": batch}).encode())

    demos = int((args.warmup + args.seconds) / args.every)
    cpu.since()
    await asyncio.gather(*(background(k) for k in range(count)), *(demo(k) for k in range(demos)))
    deadline = time.perf_counter() + 10
    while len(receiver.arrived) < len(sent) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    first = min(sent, key=sent.__getitem__)
    if first in receiver.arrived:
        cold = (receiver.arrived[first] - sent[first]) * 1000
        print(f"  the first alert after the server started (cold, not counted): {cold:.0f} ms")
    sent = {e: t for e, t in sent.items() if t >= measured_from}
    waits = np.array(
        [(receiver.arrived[e] - t) * 1000 for e, t in sent.items() if e in receiver.arrived]
    )
    missing = len(sent) - len(waits)
    p50, p99 = np.percentile(waits, [50, 99]) if len(waits) else (float("nan"), float("nan"))
    print(
        f"event -> alert under {args.rate:,} events/s: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
        f"max {waits.max() if len(waits) else float('nan'):.0f} ms "
        f"({len(waits)} alerts, {missing} missing, {receiver.bad} failed verification)"
    )
    print(f"  {cpu.since()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=1_000, help="background events/s")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between demo requests")
    parser.add_argument(
        "--warmup", type=float, default=5.0,
        help="seconds of load (and demo requests) before the measured ones",
    )  # fmt: skip
    parser.add_argument("--db", default="", help=HELP)
    parser.add_argument("--server-workers", type=int, default=0, help=SERVER_WORKERS_HELP)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="leadflow-alert-bench-"))
    with database(args.db, sqlite_file=folder / "bench.db") as db:
        return bench(db, args)


def bench(db: Database, args: argparse.Namespace) -> int:
    env = {**os.environ, "LEADFLOW_DATABASE_URL": db.url}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "bench")
    always = ["--team", "inbound", "--hours", "mon-sun 00:00-23:59", "--capacity", "10000"]
    for k in range(2):
        leadflow(env, "reps", "add", f"rep{k}@bench.example", "--name", f"Rep {k}", *always)
    receiver = Receiver()
    receiver.secret = leadflow(env, "webhooks", "add", receiver.url, "--events", "lead.sales_ready")
    port = free_port()
    running = start_leadflow(env, port, args.server_workers)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, seconds=120)  # a shared machine starts slowly
        wait_until_settled([p.pid for p in running], seconds=180)
        system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
        print(f"{system}, Python {platform.python_version()}, {db.describe()}, "
              f"{processes_shown(args.server_workers)}")  # fmt: skip
        print(f"  load average {os.getloadavg()[0]:.1f} at the start (a shared machine: noisy)")
        asyncio.run(run(url, key, receiver, args, CPU([p.pid for p in running], db)))
        print(f"  load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        stop_leadflow(running)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
