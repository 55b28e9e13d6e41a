#!/usr/bin/env python3
"""One event per request, the browser's way: the server's CPU time per `/v1/<type>` call.

    python3 dev.py bench one_event [--requests 1000] [--no-worker] [--db postgresql]

Starts `leadflow serve` on a fresh database (SQLite unless `--db`, see benchmarks/_db.py)
with the B2B example playbook, warms it
with 200 calls, then sends `--requests` single-event calls one after another on one
keep-alive connection and reports the server process's CPU time (user + system, from /proc,
Linux) and the wall time per call; on a PostgreSQL server started here, its CPU per call
too. CPU time is what a shared machine does not inflate much;
wall time there is mostly waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database
from ingest import (
    LEADFLOW,
    PLAYBOOK,
    RawConnection,
    free_port,
    leadflow,
    message,
    wait_until_healthy,
)

WARM = 200


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    url: str, key: str, pid: int, count: int, db: Database
) -> tuple[float, float, float]:
    """(server CPU ms, wall ms, database server CPU ms) per call."""
    host, port = url.removeprefix("http://").split(":")
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    connection = RawConnection(host, int(port), auth)
    rng = random.Random(5)
    calls = [message(rng) for _ in range(WARM + count)]
    bodies = [(f"/v1/{m['type']}", json.dumps(m).encode()) for m in calls]
    for path, payload in bodies[:WARM]:
        assert await connection.post(path, payload) == 200
    cpu, wall, db_cpu = cpu_seconds(pid), time.perf_counter(), db.cpu()
    for path, payload in bodies[WARM:]:
        assert await connection.post(path, payload) == 200
    cpu, wall = cpu_seconds(pid) - cpu, time.perf_counter() - wall
    db_cpu = db.cpu() - db_cpu
    return cpu / count * 1000, wall / count * 1000, db_cpu / count * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--no-worker", action="store_true", help="serve without its worker")
    parser.add_argument("--db", default="", help=HELP)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="leadflow-one-event-bench-") as folder,
        database(args.db, sqlite_file=Path(folder) / "one.db") as db,
    ):
        return _run(args, db)


def _run(args: argparse.Namespace, db: Database) -> int:
    env = {**os.environ, "LEADFLOW_DATABASE_URL": db.url}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "one-event")
    port = free_port()
    command = [str(LEADFLOW), "serve", "--port", str(port), "--log-level", "warning"]
    worker = ["--no-worker"] if args.no_worker else []
    server = subprocess.Popen([*command, *worker], env=env, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, seconds=120)
        load = os.getloadavg()[0]
        cpu, wall, db_cpu = asyncio.run(measure(url, key, server.pid, args.requests, db))
    finally:
        server.terminate()
        server.wait(timeout=30)
    with_worker = "no worker" if worker else "its worker"
    print(f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {db.describe()}, {with_worker}; "
          f"load average {load:.1f} at start")  # fmt: skip
    database_part = f", database server CPU {db_cpu:.2f} ms" if db.server_pid else ""
    print(f"{args.requests:,} single-event calls in sequence: server CPU {cpu:.2f} ms per call"
          f"{database_part}, wall {wall:.2f} ms per call")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
