#!/usr/bin/env python3
"""Time `leadflow import leads FILE` on a CSV of N leads (HubSpot export headers).

    python3 dev.py bench import_leads [--leads 100000] [--repeat 3] [--keep DIR]
                                      [--db postgresql | --db postgresql://...]

Each run starts from a fresh database (a new SQLite file; on PostgreSQL a new database on the
server `--db` names, see benchmarks/_db.py) with the B2B example playbook installed, then runs
the whole import command as a user would (validation, account and lead upserts, scoring of the
imported leads, lifecycle), in a subprocess. The figure is leads per second of that command's
wall time, median of the runs, with the CPU time (user+sys) of the command and, on a
PostgreSQL server started for the run, of the database server.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database

from leadflow.models.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "examples" / "b2b_saas.yaml"
LEADFLOW = Path(sys.executable).with_name("leadflow")

HEADER = [
    "Email",
    "First Name",
    "Last Name",
    "Job Title",
    "Company Name",
    "Number of Employees",
    "Industry",
    "Country/Region",
    "Original Source",
    "Lifecycle Stage",
]
TITLES = ["VP Operations", "Operations Manager", "IT Manager", "Software Engineer", "Analyst"]
INDUSTRIES = ["Software", "Logistics", "Manufacturing", "Retail", "Finance", ""]
COUNTRIES = ["US", "GB", "DE", "FR", "IN", ""]
SOURCES = ["ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "DIRECT_TRAFFIC", "REFERRALS"]
STAGES = ["lead", "subscriber", "marketingqualifiedlead", ""]


def write_csv(path: Path, leads: int, seed: int = 7) -> None:
    """A HubSpot-style contact export: leads spread over leads/8 companies."""
    rng = np.random.default_rng(seed)
    companies = rng.integers(0, max(leads // 8, 1), leads).tolist()
    employees = (np.exp(rng.normal(np.log(150), 1.5, leads)).astype(int) + 1).tolist()
    picks = [rng.integers(0, len(options), leads).tolist() for options in (TITLES, INDUSTRIES)]
    more = [rng.integers(0, len(options), leads).tolist() for options in (COUNTRIES, SOURCES)]
    stages = rng.integers(0, len(STAGES), leads).tolist()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for k in range(leads):
            company = companies[k]
            writer.writerow(
                [
                    f"person{k}@company{company}.example",
                    f"First{k}",
                    f"Last{k}",
                    TITLES[picks[0][k]],
                    f"Company {company}",
                    employees[company % leads],
                    INDUSTRIES[picks[1][k]],
                    COUNTRIES[more[0][k]],
                    SOURCES[more[1][k]],
                    STAGES[stages[k]],
                ]
            )


def run(args: Sequence[str], url: str) -> tuple[float, str]:
    """Seconds the command took and its last line; exits on failure with its output."""
    env = {**os.environ, "LEADFLOW_DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run([str(LEADFLOW), *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"`leadflow {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout.strip().splitlines()[-1]


def machine() -> str:
    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {os.cpu_count()} cores, Python {platform.python_version()}"


def fresh(db: Database, folder: Path, attempt: int) -> str:
    """The URL of an empty database for this run: a new SQLite file, or a new database."""
    if not db.is_postgresql:
        for stale in folder.glob(f"import-{attempt}.db*"):
            stale.unlink()
        return f"sqlite:///{folder / f'import-{attempt}.db'}"
    engine = make_engine(db.url)
    name = f"import_{attempt}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(db.url).set(database=name).render_as_string(hide_password=False)


def attempt(db: Database, folder: Path, source: Path, k: int, leads: int) -> float:
    """One import into a fresh database; its wall seconds (and the CPU printed beside it)."""
    url = fresh(db, folder, k)
    run(["init", "--playbook", str(PLAYBOOK)], url)
    cpu, db_cpu = cpu_seconds(), db.cpu()
    seconds, said = run(["import", "leads", str(source)], url)
    time.sleep(0.5)  # the command's ended backends are counted once the server has reaped them
    cpu, db_cpu = cpu_seconds() - cpu, db.cpu() - db_cpu
    server = f", database server {db_cpu:.1f} s" if db.server_pid else ""
    print(f"  run {k + 1}: {seconds:.2f} s  {leads / seconds:,.0f} leads/s"
          f"  (CPU user+sys: the command {cpu:.1f} s{server})")  # fmt: skip
    print(f"    {said.split(' in ', 1)[-1]}")
    return seconds


def cpu_seconds() -> float:
    """CPU time of this process's finished children (the leadflow commands)."""
    times = os.times()
    return times.children_user + times.children_system


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the CSV and databases in this folder")
    parser.add_argument("--db", default="", help=HELP)
    args = parser.parse_args(argv)
    if args.db and not args.db.startswith("postgres"):
        parser.error("--db: each run makes its own SQLite file; give postgresql or a URL")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _bench(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="leadflow-import-bench-") as folder:
        return _bench(args, Path(folder))


def _bench(args: argparse.Namespace, folder: Path) -> int:
    """The runs, in `folder` (the CSV and each run's database)."""
    source = folder / f"leads-{args.leads}.csv"
    if not source.exists():
        write_csv(source, args.leads)
    with database(args.db, sqlite_file=folder / "import-0.db") as db:
        print(f"{machine()}, {db.describe()}")
        print(f"  load average {os.getloadavg()[0]:.1f} at the start (a shared machine: noisy)")
        print(f"importing {args.leads:,} leads from {source.name} ({source.stat().st_size:,} B)")
        timings = [attempt(db, folder, source, k, args.leads) for k in range(args.repeat)]
    median = statistics.median(timings)
    print(f"median {median:.2f} s: {args.leads / median:,.0f} leads/s (whole command)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
