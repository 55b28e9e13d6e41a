#!/usr/bin/env python3
"""kill -9 of the server under steady `/v1/batch` load: nothing acknowledged is lost or doubled.

    python3 dev.py bench crash [--rounds 10] [--senders 4] [--batch 20]

Each round starts `leadflow serve` (with its worker) on one SQLite database, sends batches of
new messages from `--senders` connections, kills the server with SIGKILL after a random 2-5 s,
and notes which batches were acknowledged (a 200) and which were not (an error, or no answer).
The next round first re-sends every unacknowledged batch, as a Segment client retries. At the
end the database must hold every acknowledged message exactly once (none lost, none doubled),
every re-sent one exactly once, and nothing else. Prints the machine and the figures; exits 1
on any violation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx
from ingest import LEADFLOW, PLAYBOOK, free_port, leadflow, message


def start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """`leadflow serve` (worker included), once /healthz answers."""
    server = subprocess.Popen(
        [str(LEADFLOW), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    sys.exit("leadflow serve did not start")


async def load(
    url: str, key: str, retry: list[list[dict[str, object]]], args: argparse.Namespace
) -> tuple[list[list[dict[str, object]]], list[list[dict[str, object]]]]:
    """Send until the server dies: (acknowledged batches, unacknowledged batches)."""
    rng = random.Random()
    acked: list[list[dict[str, object]]] = []
    unacked: list[list[dict[str, object]]] = []
    pending = list(retry)
    stop = asyncio.Event()

    async def sender(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            batch = pending.pop() if pending else [message(rng) for _ in range(args.batch)]
            try:
                answer = await client.post("/v1/batch", content=json.dumps({"batch": batch}))
                ok = answer.status_code == 200 and answer.json().get("success") is True
            except httpx.HTTPError:
                ok = False
                stop.set()  # the server is gone
            (acked if ok else unacked).append(batch)

    async def killer(pid: int) -> None:
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        os.kill(pid, signal.SIGKILL)

    async with httpx.AsyncClient(base_url=url, auth=(key, ""), timeout=30) as client:
        await asyncio.gather(killer(args.pid), *(sender(client) for _ in range(args.senders)))
    return acked, unacked + pending


def stored(database: Path) -> Counter[str]:
    """How many times each message id is stored."""
    with sqlite3.connect(database) as db:
        return Counter(row[0] for row in db.execute("SELECT message_id FROM events"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="leadflow-crash-bench-"))
    database = folder / "crash.db"
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{database}"}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "crash")
    system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    load_now = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{system}, Python {platform.python_version()}, SQLite; load average {load_now:.1f}")
    acked_ids: set[str] = set()
    retried_ids: set[str] = set()
    retry: list[list[dict[str, object]]] = []
    for round_ in range(1, args.rounds + 1):
        port = free_port()
        server = start(env, port)
        args.pid = server.pid
        acked, unacked = asyncio.run(load(f"http://127.0.0.1:{port}", key, retry, args))
        server.wait()
        ids = {str(m["messageId"]) for batch in acked for m in batch}
        retried_ids |= {str(m["messageId"]) for batch in retry for m in batch} & ids
        acked_ids |= ids
        retry = unacked
        print(f"round {round_}: {len(ids):,} messages acknowledged, "
              f"{sum(len(b) for b in unacked):,} unacknowledged (re-sent next round)")  # fmt: skip
    port = free_port()
    server = start(env, port)  # the last round's unacknowledged batches, re-sent
    asyncio.run(_resend(f"http://127.0.0.1:{port}", key, retry))
    acked_ids |= {str(m["messageId"]) for batch in retry for m in batch}
    server.terminate()
    server.wait(timeout=30)
    counts = stored(database)
    lost = acked_ids - counts.keys()
    doubled = [mid for mid, n in counts.items() if n > 1]
    unexpected = counts.keys() - acked_ids
    print(f"{args.rounds} kill -9 rounds: {len(acked_ids):,} acknowledged messages "
          f"({len(retried_ids):,} of them re-sent after a crash); lost {len(lost)}, "
          f"doubled {len(doubled)}, stored but never acknowledged {len(unexpected)}")  # fmt: skip
    return 1 if lost or doubled or unexpected else 0


async def _resend(url: str, key: str, batches: list[list[dict[str, object]]]) -> None:
    async with httpx.AsyncClient(base_url=url, auth=(key, ""), timeout=30) as client:
        for batch in batches:
            answer = await client.post("/v1/batch", content=json.dumps({"batch": batch}))
            answer.raise_for_status()


if __name__ == "__main__":
    raise SystemExit(main())
