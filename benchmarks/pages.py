#!/usr/bin/env python3
"""Server time of every web page on a 50,000-lead demo database.

    python3 dev.py bench pages [--leads 50000] [--runs 5] [--db postgresql | --db URL]
    python3 dev.py bench pages --leads 5000 --screenshots DIR

Builds the demo company once (`leadflow demo --no-serve`, reused while the size matches: a
SQLite file in the temporary folder, or with `--db postgresql` a local server whose data
directory is kept in the temporary folder as leadflow-pages-pg-LEADS, see benchmarks/_db.py,
filled by copying the SQLite demo of the same size when there is one), signs
in as the demo manager (who sees every page) and asks each page `--runs` times through the
app in-process, so the figure is the server's own time: routing, queries, templates; beside
the median wall time, the median CPU time (user+sys) of the process serving it.

With `--screenshots DIR` it serves the same database on a local port instead, signs in with
Chromium through the demo's one-time link and saves every page, whole, at a desktop width
(1280 px) and a phone's (390 px) as DIR/WIDTH-PAGE.png, printing each page's scroll width at
390 px (over 390: the page scrolls sideways on a phone). DIR belongs in .gitignore
(`screenshots/` is).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database
from _from_sqlite import code_heads, copy_sqlite_build, open_read_only, sqlite_heads
from rescore import machine, psycopg_connect

from leadflow.api.app import create_app
from leadflow.models.db import make_engine, upgrade
from leadflow.models.lead import Lead
from leadflow.services import playbooks, users
from leadflow.services.reports import snapshots
from leadflow.settings import Settings

LEADFLOW = Path(sys.executable).with_name("leadflow")


def build(url: str, leads: int) -> None:
    command = [str(LEADFLOW), "--db", url, "demo", "--no-serve", "--fresh", "--leads", str(leads)]
    print(f"building the demo database ({leads:,} leads)", flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    settle(url)


def settle(url: str) -> None:
    """On PostgreSQL, what autovacuum does on a live server given time: six months played
    forward rewrite each lead row many times (20,000 leads left 274,000 dead row versions), so
    without it a page's scan reads the dead versions, with no statistics."""
    if url.startswith("sqlite"):
        return
    with psycopg_connect(url, autocommit=True) as con:
        if con.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NULL"
            " AND last_autoanalyze IS NULL AND n_live_tup > 0"
        ).fetchone()[0]:
            print("vacuuming and analysing (as autovacuum would)", flush=True)
            con.execute("VACUUM (ANALYZE)")


def size(url: str) -> int:
    """Leads in the database (0 when it has no schema yet)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("leads"):
                return 0
            return int(connection.scalar(select(func.count()).select_from(Lead)) or 0)
    finally:
        engine.dispose()


def sqlite_size(path: Path) -> int:
    """Leads in the SQLite demo at `path` (0 when there is none, or it is not at the code's
    migration heads: a copy must match the schema it is copied into)."""
    if not path.exists():
        return 0
    con = open_read_only(path)
    try:
        if sqlite_heads(con) != code_heads():
            return 0
        return int(con.execute("SELECT count(*) FROM leads").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshots", type=Path, help="save every page's screenshots here")
    parser.add_argument("--db", default="", help=HELP)
    args = parser.parse_args(argv)
    path = Path(tempfile.gettempdir()) / f"leadflow-pages-{args.leads}.db"
    with database(args.db, sqlite_file=path, keep_under=f"leadflow-pages-pg-{args.leads}") as db:
        current = size(db.url)
        if current != args.leads and db.is_postgresql and sqlite_size(path) == args.leads:
            # The SQLite demo of this size, copied (minutes; building it again took over
            # fifteen): the same company, rows and all (benchmarks/_from_sqlite.py).
            print(f"copying the SQLite demo {path}", flush=True)
            started = time.perf_counter()
            copy_sqlite_build(path, db.url, psycopg_connect)
            print(f"copied in {time.perf_counter() - started:.0f} s", flush=True)
        elif current != args.leads:
            build(db.url, args.leads)
        else:
            print(f"reusing the demo database ({args.leads:,} leads)")
            upgrade(db.url)  # built by an older version, perhaps
            settle(db.url)  # built before the build did this, perhaps
        return measure(db, args)


def measure(db: Database, args: argparse.Namespace) -> int:
    app = create_app(Settings(database_url=db.url, run_worker=False))
    with app.state.sessions() as session, session.begin():
        _, token = users.demo_users(session, datetime.now(UTC))
        lead_id = session.scalar(select(Lead.id).order_by(Lead.total.desc()).limit(1))
    plan = "/plan?goal=1000000&deal_size=20000&rates=visit%3D0.05"
    pages = ["/login", "/queue", f"/leads/{lead_id}", "/dashboard", "/playbook", plan, "/team",
             "/alerts"]  # fmt: skip
    if args.screenshots:
        return screenshots(app, token, [p for p in pages if p != "/login"], args.screenshots)
    print(f"{machine()}, {db.describe()}")
    print(f"  load average {os.getloadavg()[0]:.1f} at the start (a shared machine: noisy)")
    print("  CPU: the whole process's (user+sys), which serves the page in-process")
    refresh(app)
    print(f"{'page':<34} {'median ms':>10} {'max ms':>8} {'CPU ms':>8}")
    with TestClient(app) as client:
        assert client.get(f"/welcome?token={token}").status_code == 200  # asks first
        confirm = {"token": token, "csrf_token": client.cookies["lf_login_csrf"]}
        signed = client.post("/welcome", data=confirm, follow_redirects=False)
        assert signed.status_code == 303 and "lf_session" in signed.cookies
        for page in pages:
            spent, cpu = [], []
            for _ in range(args.runs):
                started, used = time.perf_counter(), time.process_time()
                response = client.get(page)
                spent.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
                assert response.status_code == 200, (page, response.status_code)
            print(f"{page[:34]:<34} {statistics.median(spent):10.0f} {max(spent):8.0f}"
                  f" {statistics.median(cpu):8.0f}", flush=True)  # fmt: skip
    return 0


def refresh(app: FastAPI) -> None:
    """Refresh the pages' snapshots first, as the worker does in the background (a build by
    an older version has none), and say what that costs."""
    started, used = time.perf_counter(), time.process_time()
    with app.state.sessions() as session, session.begin():
        parts = snapshots.compute(session, playbooks.active_playbook(session), datetime.now(UTC))
        snapshots.store(session, parts, datetime.now(UTC))
    took = ", ".join(f"{p.name} {p.took_ms:,} ms" for p in parts)
    wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - used) * 1000
    print(f"  the worker's snapshots, refreshed first: {wall:,.0f} ms wall, {cpu:,.0f} ms CPU"
          f" ({took} wall)")  # fmt: skip


WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def screenshots(app: FastAPI, token: str, pages: list[str], folder: Path) -> int:
    """Every page at a desktop and a phone width, whole, as PNG files in `folder`."""
    import threading

    import uvicorn
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    folder.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    wide = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page()
        page.goto(f"{base}/welcome?token={token}")  # the link works once: one sign-in
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        for label, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            for path in pages:
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(300)  # the charts draw after load
                name = path.strip("/").split("?")[0].replace("/", "-") or "home"
                page.screenshot(path=str(folder / f"{label}-{name}.png"), full_page=True)
                scroll = page.evaluate("document.documentElement.scrollWidth")
                wide += label == "phone" and scroll > width
                print(f"{label:<8} {path[:40]:<40} scroll width {scroll} px", flush=True)
        browser.close()
    server.should_exit = True
    print(f"saved in {folder}; pages wider than a phone: {wide}")
    return 1 if wide else 0


if __name__ == "__main__":
    sys.exit(main())
