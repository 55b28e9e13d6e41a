#!/usr/bin/env python3
"""A soak: steady tracking load with the worker running; memory flat, no error, p99 stable.

    python3 dev.py bench soak [--minutes 10] [--rate 1000] [--batch 10]
                              [--no-worker | --worker-process]

Starts `leadflow serve` (its worker in the process) on a fresh SQLite database with the B2B
example playbook and sends an open-loop load of `--rate` events/s (`/v1/batch` requests of
`--batch` events, sent on schedule whether or not earlier ones have answered) for `--minutes`.
Each minute prints the acknowledgement latency p50/p99 (from each request's scheduled time),
errors (a non-200, or a request not sent within 30 s of its time for want of a free
connection) and the server's resident memory. The verdict:
RSS growth from the end of the first minute (warm) to the end under 10%, no error, and no
minute's p99 over 3 times the median of the minutes' p99s. Exits 1 when any fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import random
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ingest import LEADFLOW, PLAYBOOK, RawConnection, body, free_port, leadflow, wait_until_healthy

TIMEOUT = 30.0  # seconds a request may wait for a free connection before it counts as failed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, all) CPU ticks of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle, steal = values[3] + values[4], values[7]
    return sum(values) - idle - steal, steal, sum(values)


class Usage:
    """CPU use per minute: the server's, the load generator's, everything else's on the
    machine (other work), and time stolen by the hypervisor, so a slow minute can be told
    apart from a busy machine."""

    def __init__(self, server: int) -> None:
        self.server = server
        self.last = self._now()

    def _now(self) -> tuple[float, float, tuple[int, int, int], float]:
        return (cpu_seconds(self.server), time.process_time(), machine_ticks(),
                time.perf_counter())  # fmt: skip

    def minute(self) -> str:
        now = self._now()
        (server0, own0, (busy0, steal0, all0), t0), self.last = self.last, now
        server1, own1, (busy1, steal1, all1), t1 = now
        ticks = max(1, all1 - all0)
        cores = os.cpu_count() or 1
        machine = (busy1 - busy0) / ticks * cores  # cores' worth of busy time
        server = (server1 - server0) / (t1 - t0)
        own = (own1 - own0) / (t1 - t0)
        others = max(0.0, machine - server - own)
        return (f"CPU: server {server:.2f}, load generator {own:.2f}, other work {others:.2f} "
                f"cores, stolen {(steal1 - steal0) / ticks * 100:.0f}%")  # fmt: skip


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(url: str, key: str, pid: int, args: argparse.Namespace) -> list[dict[str, float]]:
    """Run the load; one row of figures per minute."""
    rng = random.Random(3)
    per_second = args.rate / args.batch
    host, port = url.removeprefix("http://").split(":")
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    idle: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(RawConnection(host, int(port), auth))
    minutes: list[dict[str, float]] = []
    waits: list[float] = []
    errors = 0
    kinds: Counter[str] = Counter()  # what the errors were: a status, or what went wrong
    start = time.perf_counter() + 0.5
    tasks: set[asyncio.Task[None]] = set()
    usage = Usage(pid)

    async def send(scheduled: float, payload: bytes) -> None:
        nonlocal errors
        # Waiting for a free connection counts as latency; over TIMEOUT the request is not sent
        # (an error): a server that fell behind is not flooded with requests nobody awaits.
        try:
            limit = max(0.001, scheduled + TIMEOUT - time.perf_counter())
            connection = await asyncio.wait_for(idle.get(), limit)
        except TimeoutError:
            waits.append(TIMEOUT)
            errors += 1
            kinds["not sent within 30 s"] += 1
            return
        try:
            status = await connection.post("/v1/batch", payload)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            status, connection = 0, RawConnection(host, int(port), auth)
            kinds[type(exc).__name__] += 1
        idle.put_nowait(connection)
        waits.append(time.perf_counter() - scheduled)
        errors += status != 200
        if status not in (0, 200):
            kinds[f"HTTP {status}"] += 1

    for minute in range(args.minutes):
        count = int(per_second * 60)
        for k in range(count):
            scheduled = start + (minute * 60) + k / per_second
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            task = asyncio.create_task(send(scheduled, body(rng, args.batch)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        taken = np.array(waits) * 1000
        p50, p99 = np.percentile(taken, [50, 99]) if len(taken) else (float("nan"),) * 2
        row = {"minute": minute + 1, "p50": p50, "p99": p99, "errors": errors,
               "rss": rss_mb(pid), "requests": len(taken)}  # fmt: skip
        minutes.append(row)
        print(f"minute {minute + 1:>2}: {len(taken) * args.batch:,} events, p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms, {errors} errors{_kinds(kinds)}, server RSS {row['rss']:.1f} MB; "
              f"{usage.minute()}", flush=True)  # fmt: skip
        waits, errors = [], 0
        kinds.clear()
    return minutes


def _kinds(kinds: Counter[str]) -> str:
    return " (" + ", ".join(f"{k}: {n}" for k, n in kinds.most_common()) + ")" if kinds else ""


def verdict(minutes: list[dict[str, float]]) -> bool:
    """Print and return whether memory stayed flat, nothing failed and p99 stayed stable."""
    growth = (minutes[-1]["rss"] / minutes[0]["rss"] - 1) * 100
    errors = sum(int(m["errors"]) for m in minutes)
    p99s = [m["p99"] for m in minutes]
    typical = float(np.median(p99s))
    worst = max(p99s)
    ok = growth < 10 and errors == 0 and worst <= 3 * typical
    print(f"RSS {minutes[0]['rss']:.1f} MB after minute 1 -> {minutes[-1]['rss']:.1f} MB "
          f"({growth:+.1f}%); {errors} errors; p99 per minute median {typical:.1f} ms, "
          f"worst {worst:.1f} ms: {'PASS' if ok else 'FAIL'}")  # fmt: skip
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=int, default=1_000, help="events per second")
    parser.add_argument("--batch", type=int, default=10, help="events per request")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--no-worker", action="store_true", help="serve without its in-process worker"
    )
    where.add_argument(
        "--worker-process",
        action="store_true",
        help="serve without its in-process worker and run `leadflow worker` beside it",
    )
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="leadflow-soak-bench-"))
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{folder / 'soak.db'}"}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "soak")
    port = free_port()
    command = [str(LEADFLOW), "serve", "--port", str(port), "--log-level", "warning"]
    apart = args.no_worker or args.worker_process
    server = subprocess.Popen(
        [*command, *(["--no-worker"] if apart else [])],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    worker_process = (
        subprocess.Popen([str(LEADFLOW), "worker"], env=env, stdout=subprocess.DEVNULL)
        if args.worker_process
        else None
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, seconds=120)
        system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        worker = (
            "no worker"
            if args.no_worker
            else "a `leadflow worker` process beside it"
            if args.worker_process
            else "its worker"
        )
        print(f"{system}, Python {platform.python_version()}, SQLite, 1 server process with "
              f"{worker}; load average {load:.1f} at start; {args.rate:,} events/s in "
              f"requests of {args.batch} for {args.minutes} min")  # fmt: skip
        minutes = asyncio.run(soak(url, key, server.pid, args))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"load average {load:.1f} at the end")
    finally:
        for process in (server, worker_process):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    return 0 if verdict(minutes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
