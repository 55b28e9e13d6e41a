#!/usr/bin/env python3
"""Event -> in-app notification visible in a signed-in browser page, under background load.

    python3 dev.py bench inapp [--seconds 20] [--rate 500] [--every 1.0]
                               [--db postgresql | --db postgresql://...]

Starts `leadflow serve` (one process) on a fresh database (SQLite unless --db: `postgresql`
starts a throw-away local server, see benchmarks/_db.py) with the B2B
example playbook and one always-on inbound rep who has a user account. Chromium (Playwright,
the system's /usr/bin/chromium) signs in as that rep and opens the queue, which holds the
live stream (Server-Sent Events) open. While an open-loop background load of `--rate`
tracking events/s runs, a new lead sends a demo request every `--every` seconds; the latency
is from sending that request to the frame after the page showed its notification (the toast
and the bell; `requestAnimationFrame` after the `lf:notification` event). Prints wall-clock
percentiles and the CPU time (user+sys) the server process used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database
from ingest import PLAYBOOK, RawConnection, body, free_port, leadflow, wait_until_healthy

REP = "rep0@bench.example"
PASSWORD = "bench-password-1"
# Each notification's arrival, stamped at the next frame after the page handled it.
WATCH = """
window.__seen = {};
document.body.addEventListener("lf:notification", (e) => {
  const who = e.detail.title.split(": ")[1].split(" ")[0];
  requestAnimationFrame(() => { window.__seen[who] = Date.now(); });
});
"""


async def load(url: str, key: str, args: argparse.Namespace, sent: dict[str, float]) -> None:
    """The background load and the demo requests, open loop (sent on schedule, not on reply)."""
    import base64

    host, port = url.removeprefix("http://").split(":")
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    idle: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(RawConnection(host, int(port), auth))
    rng = random.Random(3)
    count = int(args.rate * args.seconds)
    payloads = [body(rng, 1) for _ in range(count)]
    start = time.perf_counter() + 0.5

    async def post(payload: bytes) -> None:
        connection = await idle.get()
        await connection.post("/v1/batch", payload)
        idle.put_nowait(connection)

    async def background(k: int) -> None:
        await asyncio.sleep(max(0.0, start + k / args.rate - time.perf_counter()))
        await post(payloads[k])

    async def demo(k: int) -> None:
        await asyncio.sleep(max(0.0, start + k * args.every - time.perf_counter()))
        email = f"buyer{k}@inapp-bench-{k}.example"
        batch = [{"type": "track", "userId": email, "event": "Demo Requested"}]
        sent[email] = time.time() * 1000
        await post(json.dumps({"batch": batch}).encode())

    demos = int(args.seconds / args.every)
    await asyncio.gather(*(background(k) for k in range(count)), *(demo(k) for k in range(demos)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, key: str, server: int, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("LEADFLOW_CHROMIUM") or shutil.which("chromium") or "chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page()
        page.goto(f"{url}/login?next=/queue")
        page.fill("#email", REP)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("html[data-live=on]", state="attached")
        page.evaluate(WATCH)
        sent: dict[str, float] = {}
        cpu, wall = cpu_seconds(server), time.perf_counter()
        generator = threading.Thread(target=lambda: asyncio.run(load(url, key, args, sent)))
        generator.start()
        generator.join()
        deadline = time.perf_counter() + 15
        seen: dict[str, float] = {}
        while time.perf_counter() < deadline:
            seen = page.evaluate("window.__seen")
            if len(seen) >= len(sent):
                break
            page.wait_for_timeout(200)
        cpu, wall = cpu_seconds(server) - cpu, time.perf_counter() - wall
        browser.close()
    waits = np.array([seen[e] - t for e, t in sent.items() if e in seen])
    p50, p99 = np.percentile(waits, [50, 99]) if len(waits) else (float("nan"),) * 2
    print(
        f"event -> in-app notification on screen under {args.rate:,} events/s: "
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {waits.max() if len(waits) else 0:.0f} ms "
        f"({len(waits)} notifications, {len(sent) - len(waits)} missing); "
        f"server CPU {cpu:.1f} s user+sys in {wall:.1f} s wall"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=500, help="background events/s")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between demo requests")
    parser.add_argument("--db", default="", help=HELP)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="leadflow-inapp-bench-"))
    with database(args.db, sqlite_file=folder / "bench.db") as db:
        return bench(db, args)


def bench(db: Database, args: argparse.Namespace) -> int:
    env = {**os.environ, "LEADFLOW_DATABASE_URL": db.url}
    leadflow(env, "init", "--playbook", str(PLAYBOOK))
    key = leadflow(env, "keys", "create", "--role", "ingest", "--name", "bench")
    always = ["--team", "inbound", "--hours", "mon-sun 00:00-23:59", "--capacity", "10000"]
    leadflow(env, "reps", "add", REP, "--name", "Rep 0", *always)
    leadflow(env, "users", "create", REP, "--role", "rep", "--password", PASSWORD)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("leadflow")), "serve", "--port", str(port),
         "--log-level", "warning"], env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, seconds=180)  # a shared machine starts slowly
        engine = db.describe()
        system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
        load_now = os.getloadavg()[0]
        print(f"{system}, Python {platform.python_version()}, {engine}, 1 server process + "
              f"worker, Chromium; load average {load_now:.1f} at the start")  # fmt: skip
        measure(base, key, server.pid, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
