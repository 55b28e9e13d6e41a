#!/usr/bin/env python3
"""Events in through the Segment API, scored inline: throughput and latency.

    python3 dev.py bench ingest [--events 50000] [--rate 1000] [--seconds 20] [--batch 1]
                                [--db postgresql | --db postgresql://...] [--server-workers N]
                                [--baseline]

Starts `leadflow serve` (one process, its worker inside; with `--server-workers N`, N server
processes, `serve --workers N --no-worker`, beside one `leadflow worker` process: PostgreSQL
only) on a fresh database (SQLite unless `--db`, see benchmarks/_db.py) with the B2B example
playbook and an ingest key, then measures from a separate client process:

1. throughput: `/v1/batch` requests of 100 events each, from 4 concurrent connections, until
   `--events` events are acknowledged; events/s = events / wall time;
2. latency: an open-loop load of `--rate` events/s (requests of `--batch` events each, sent on
   schedule whether or not earlier ones have answered, so slow answers are not hidden) for
   `--seconds`; acknowledgement latency p50/p99 measured from each request's scheduled time.

Beside each phase's wall time: the CPU time (user+sys) the leadflow server used and, on a
PostgreSQL server started for the run, the database server's.

`--baseline` (SQLite): then the same number of events of the same mix inserted by plain
`sqlite3` into the events table (its indexes in place), 100 per transaction, each committed:
what storing them costs SQLite itself on this machine, the floor under the throughput.

Events go to a pool of 5,000 people (a tenth identified by e-mail first): page views, pricing
visits, e-mail clicks, downloads, webinars and a few demo requests, like a marketing site.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database, tree_cpu

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "examples" / "b2b_saas.yaml"
LEADFLOW = Path(sys.executable).with_name("leadflow")
PEOPLE = 5_000
PAGES = ["/", "/pricing", "/blog/1", "/blog/2", "/docs/start", "/customers/acme", "/careers"]
TRACKS = ["Email Clicked", "Content Downloaded", "Webinar Attended", "Form Submitted"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def leadflow(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(LEADFLOW), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"`leadflow {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def message(rng: random.Random) -> dict[str, Any]:
    """One realistic tracking call for a random person."""
    person = rng.randrange(PEOPLE)
    who: dict[str, Any] = {"anonymousId": f"anon-{person}"}
    if person % 10 == 0:
        who["userId"] = f"person{person}@company{person % 700}.example"
    now = datetime.now(UTC).isoformat()
    base = {**who, "messageId": uuid.uuid4().hex, "timestamp": now, "sentAt": now}
    roll = rng.random()
    if roll < 0.6:
        path = rng.choice(PAGES)
        return {**base, "type": "page", "name": path, "properties": {"path": path}}
    if roll < 0.995:
        return {**base, "type": "track", "event": rng.choice(TRACKS), "properties": {"k": 1}}
    return {**base, "type": "track", "event": "Demo Requested"}


def body(rng: random.Random, size: int) -> bytes:
    return json.dumps({"batch": [message(rng) for _ in range(size)]}).encode()


async def identify_some(client: httpx.AsyncClient) -> None:
    """A tenth of the people are known by e-mail before the load starts."""
    batch = [
        {
            "type": "identify",
            "anonymousId": f"anon-{p}",
            "userId": f"person{p}@company{p % 700}.example",
            "traits": {"email": f"person{p}@company{p % 700}.example", "title": "IT Manager"},
        }
        for p in range(0, PEOPLE, 10)
    ]
    for start in range(0, len(batch), 100):
        response = await client.post("/v1/batch", json={"batch": batch[start : start + 100]})
        response.raise_for_status()


async def throughput(client: httpx.AsyncClient, events: int, connections: int = 4) -> float:
    rng = random.Random(1)
    bodies = [body(rng, 100) for _ in range(events // 100)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            response = await client.post("/v1/batch", content=queue.get_nowait())
            response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return len(bodies) * 100 / (time.perf_counter() - started)


class RawConnection:
    """A bare HTTP/1.1 keep-alive connection: the load generator must cost far less CPU than
    the server it measures, and on 2 cores a full HTTP client library does not.

    The server closes a connection idle for `IDLE_CLOSE` seconds (uvicorn's keep-alive, 5 s):
    one idle longer is reopened before use, and a request on a reused connection that the
    server closed in the meantime (an empty answer: it never read the request) is sent again
    on a new one, as HTTP client libraries do.
    """

    IDLE_CLOSE = 4.0  # under uvicorn's default keep-alive timeout of 5 s

    def __init__(self, host: str, port: int, auth: str) -> None:
        self.host, self.port, self.auth = host, port, auth
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0  # time.monotonic() of the last answer

    async def post(self, path: str, payload: bytes) -> int:
        if self.writer is not None and time.monotonic() - self.used > self.IDLE_CLOSE:
            self.close()
        reused = self.writer is not None
        status = await self._post(path, payload)
        if status is None and reused:
            self.close()
            status = await self._post(path, payload)
        if status is None:
            raise ConnectionResetError("the server closed the connection without answering")
        self.used = time.monotonic()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _post(self, path: str, payload: bytes) -> int | None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: {self.auth}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + payload)
            status_line = await self.reader.readline()
        except ConnectionResetError:
            return None
        if not status_line:
            return None
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def latency(
    url: str, key: str, rate: int, seconds: float, batch: int
) -> tuple[np.ndarray, int]:
    rng = random.Random(2)
    per_second = rate / batch
    count = int(per_second * seconds)
    bodies = [body(rng, batch) for _ in range(count)]
    host, port = url.removeprefix("http://").split(":")
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    idle: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(RawConnection(host, int(port), auth))
    waits: list[float] = []
    failures = 0
    start = time.perf_counter() + 0.5

    async def send(k: int) -> None:
        nonlocal failures
        scheduled = start + k / per_second
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        connection = await idle.get()  # waiting for a free connection counts as latency
        status = await connection.post("/v1/batch", bodies[k])
        idle.put_nowait(connection)
        waits.append(time.perf_counter() - scheduled)
        failures += status != 200

    await asyncio.gather(*(send(k) for k in range(count)))
    return np.array(waits) * 1000, failures


class CPU:
    """CPU seconds the leadflow processes (server and worker, every process of each) and the
    database server used since the last reading."""

    def __init__(self, pids: Sequence[int], db: Database) -> None:
        self.pids, self.db = pids, db
        self.last = self.now()

    def now(self) -> tuple[float, float]:
        return sum(tree_cpu(pid) for pid in self.pids), self.db.cpu()

    def since(self) -> str:
        (app0, db0), (app1, db1) = self.last, self.now()
        self.last = (app1, db1)
        database = f", database server {db1 - db0:.1f} s" if self.db.server_pid else ""
        return f"CPU user+sys: leadflow {app1 - app0:.1f} s{database}"


async def measure(url: str, key: str, args: argparse.Namespace, cpu: CPU) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Content-Type": "text/plain"}
    async with httpx.AsyncClient(
        base_url=url, auth=(key, ""), headers=headers, limits=limits, timeout=30
    ) as client:
        await identify_some(client)
        cpu.since()
        started = time.perf_counter()
        rate = await throughput(client, args.events)
        print(f"throughput: {rate:,.0f} events/s ({args.events:,} events, /v1/batch of 100)")
        print(f"  {time.perf_counter() - started:.1f} s wall; {cpu.since()}")
        waits, failures = await latency(url, key, args.rate, args.seconds, args.batch)
        p50, p99 = np.percentile(waits, [50, 99])
        print(
            f"latency at {args.rate:,} events/s ({args.batch} per request, {args.seconds:g} s):"
            f" p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {waits.max():.1f} ms, {failures} failed"
        )
        print(f"  {cpu.since()}")


def wait_until_healthy(url: str, *, seconds: float) -> None:
    """Wait for the server's /healthz to answer 200; exit when it has not within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            sys.exit("leadflow serve did not start")
        time.sleep(0.2)


SERVER_WORKERS_HELP = (
    "N server processes (`serve --workers N --no-worker`) and one `leadflow worker` process "
    "(PostgreSQL only); 0, the default: one server process with its worker inside"
)


def start_leadflow(env: dict[str, str], port: int, server_workers: int) -> list[Any]:
    """The leadflow processes serving on `port`: the server, and the worker when separate."""
    serve = [str(LEADFLOW), "serve", "--port", str(port), "--log-level", "warning"]
    if not server_workers:
        return [subprocess.Popen(serve, env=env)]
    several = [*serve, "--workers", str(server_workers), "--no-worker"]
    # The in-process worker looks for work every 0.05 s: the separate one does the same.
    worker = [str(LEADFLOW), "worker", "--interval", "0.05"]
    return [
        subprocess.Popen(several, env=env),
        subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL),
    ]


def stop_leadflow(processes: list[Any]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def processes_shown(server_workers: int) -> str:
    if not server_workers:
        return "1 server process with its worker inside"
    return f"{server_workers} server process(es) + 1 worker process"


def wait_until_settled(pids: Sequence[int], *, seconds: float) -> None:
    """Wait until the leadflow processes use under a fifth of a core over a second: with
    several server processes /healthz answers as soon as one has started, while the others
    may still be importing the app (tens of seconds on a busy machine), and that is neither
    capacity nor CPU of the load."""
    deadline = time.monotonic() + seconds
    used = sum(tree_cpu(pid) for pid in pids)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = sum(tree_cpu(pid) for pid in pids)
        if now - used < 0.2:
            return
        used = now


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=1, help="events per latency request")
    parser.add_argument("--db", default="", help=HELP)
    parser.add_argument("--server-workers", type=int, default=0, help=SERVER_WORKERS_HELP)
    parser.add_argument("--baseline", action="store_true", help=BASELINE_HELP)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="leadflow-ingest-bench-"))
    with database(args.db, sqlite_file=folder / "bench.db") as db:
        return run(db, args)


def run(db: Database, args: argparse.Namespace) -> int:
    env = {**os.environ, "LEADFLOW_DATABASE_URL": db.url}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "bench")
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
        asyncio.run(measure(url, key, args, CPU([p.pid for p in running], db)))
        print(f"  load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        stop_leadflow(running)
    if args.baseline and db.url.startswith("sqlite"):
        bare_inserts(db.url.removeprefix("sqlite:///"), args.events)
    return 0


BASELINE_HELP = (
    "SQLite: then the same number of events of the same mix inserted by plain sqlite3 into "
    "the events table, 100 per transaction: what storing them costs SQLite itself"
)


def bare_inserts(path: str, events: int) -> None:
    """The floor under `/v1/batch`'s throughput on this machine: the mix's events as rows of
    `events` (all its indexes in place, the server's pragmas), inserted by plain `sqlite3`,
    100 per transaction, each committed; no HTTP, no parsing, no identity, no scoring."""
    from leadflow.core.event_kinds import kind_of, occurred_micros
    from leadflow.models.db import SQLITE_PRAGMAS

    rng = random.Random(1)
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    leads = [row[0] for row in connection.execute("SELECT id FROM leads")]
    rows = []
    for _ in range(events):
        m = message(rng)
        at = datetime.fromisoformat(m["timestamp"])
        name = m.get("name") if m["type"] == "page" else m.get("event")
        properties = m.get("properties", {})
        identified = bool(m.get("userId")) and bool(leads)
        rows.append((
            rng.choice(leads) if identified else None, m["anonymousId"], "bare",
            m["messageId"], m["type"], name, json.dumps(properties), "{}",
            at.strftime("%Y-%m-%d %H:%M:%S.%f"), at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            properties.get("path"), occurred_micros(at), kind_of(m["type"], name, properties),
        ))  # fmt: skip
    insert = (
        "INSERT INTO events (lead_id, anonymous_id, source, message_id, type, name, properties,"
        " context, occurred_at, received_at, path, occurred_us, kind)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(rows), 100):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(insert, rows[start : start + 100])
        connection.execute("COMMIT")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    connection.close()
    print(f"baseline: the same {events:,} events inserted by plain sqlite3, 100 per transaction:"
          f" {events / wall:,.0f} events/s ({cpu / events * 1e6:.0f} us of CPU each)")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
