#!/usr/bin/env python3
"""Time `leadflow rescore` on N leads and M events, per phase, on SQLite or PostgreSQL.

    python3 dev.py bench rescore [--leads 1000000] [--events 10000000] [--db PATH]
    python3 dev.py bench rescore --leads 20000 --events 200000 --db postgresql

Builds the database once (SQLite: raw sqlite3 executemany; PostgreSQL: COPY; indexes made
after loading) and reuses it while the sizes match (migrating it to the current schema).
`--db postgresql` starts a local server whose data directory is kept in the temporary folder
(leadflow-rescore-pg-LEADS-EVENTS-vN, like the SQLite file's name) and stopped after the run;
`--db postgresql://...` builds into an empty database of your own (see benchmarks/_db.py).
The re-score runs in one transaction that is rolled back, so every run starts from the same
state; `--commit` keeps it and times the commit too.

Two cases: by default the leads have never been scored, so every lead is written (an import,
a first install); `--scored` re-scores a copy of the database that was scored and committed a
day earlier (`-scored.db` beside it, or database `bench_scored` on PostgreSQL, made once), as
a nightly `leadflow rescore` does: decay
moves many scores, the rest are only stamped. `--baseline` also times reading the same
columns with nothing else (the events and the leads query, through the same ADBC children)
and, on SQLite, the bare write: every lead's score columns set by plain `sqlite3`, the
indexes holding them dropped and built again (what SQLite itself costs for the write phase),
and beside it the same scores inserted into a new narrow table of scores alone, with its
indexes (what that write would cost were scores a table of their own).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import inspect, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import HELP, Database, database

from leadflow.core.event_kinds import kind_of
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.repositories import event_columns, rescoring_reads
from leadflow.services import playbooks, rescore_leads
from leadflow.services.rescore import rescore_all

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "examples" / "b2b_saas.yaml"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
STAMP = "2025-06-01 00:00:00.000000"
CHUNK = 500_000
FORMAT_VERSION = "2"  # 2: events carry occurred_us and kind

TITLES: dict[str | None, int] = {
    "VP Operations": 3, "Head of Operations": 3, "Director of Operations": 3, "COO": 1,
    "Operations Manager": 6, "IT Manager": 4, "Director of IT": 2, "CTO": 1,
    "Systems Engineer": 4, "Software Engineer": 10, "Founder": 2, "CEO": 2, "Owner": 1,
    "Marketing Manager": 5, "Sales Director": 3, "Account Executive": 5, "Analyst": 6,
    "Consultant": 4, "Student": 2, "Product Manager": 4, "Project Manager": 4,
    "Chief Operating Officer": 1, "VP Engineering": 1, "Head of IT Infrastructure": 1,
}  # fmt: skip
INDUSTRIES = {
    "Software": 25, "Logistics": 10, "Manufacturing": 12, "Retail": 10, "Finance": 10,
    "Healthcare": 8, "Education": 5, None: 20,
}  # fmt: skip
COUNTRIES = {"US": 40, "GB": 10, "DE": 10, "FR": 6, "CA": 5, "IN": 10, "BR": 6, None: 13}
TRACKS = {
    "Email Opened": 40, "Email Clicked": 20, "Content Downloaded": 8, "Whitepaper Downloaded": 4,
    "Webinar Attended": 5, "Form Submitted": 8, "Trial Started": 3, "Demo Requested": 2,
    "Unsubscribed": 2, "Signed Up": 8,
}  # fmt: skip
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]


def pick(rng: np.random.Generator, weights: dict[Any, int], size: int) -> list[Any]:
    """Values drawn with the given weights."""
    values = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return [values[k] for k in rng.choice(len(values), size, p=p / p.sum()).tolist()]


def page_paths() -> tuple[list[str], np.ndarray]:
    """Site paths and how often each is viewed."""
    paths = ["/", "/pricing", "/pricing/enterprise", "/careers", "/signup"]
    weights = [20.0, 8.0, 2.0, 2.0, 3.0]
    for name, count, share in (("customers", 30, 8.0), ("blog", 2000, 37.0), ("docs", 500, 20.0)):
        paths += [f"/{name}/{k}" for k in range(count)]
        weights += [share / count] * count
    p = np.array(weights)
    return paths, p / p.sum()


def stamps(moments: np.ndarray) -> list[str]:
    """SQLAlchemy's SQLite DATETIME text for datetime64[us] values."""
    return [s[:10] + " " + s[11:] for s in np.datetime_as_string(moments, unit="us").tolist()]


def insert(con: Any, table: str, columns: Sequence[str], rows: Any) -> None:
    """Rows into a table: executemany on SQLite, COPY on PostgreSQL (psycopg)."""
    if isinstance(con, sqlite3.Connection):
        marks = ", ".join("?" * len(columns))
        con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    with con.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build_accounts(con: Any, rng: np.random.Generator, book: Playbook, n: int) -> list[str]:
    named = [d for tier in book.tiers for d in tier.domains]
    domains = named + [f"company{k}.com" for k in range(n - len(named))]
    employees = np.exp(rng.normal(np.log(150), 1.6, n)).astype(int) + 1
    known = rng.random(n) < 0.9
    rows = zip(
        range(1, n + 1),
        domains,
        [f"Company {k}" for k in range(n)],
        pick(rng, INDUSTRIES, n),
        [int(e) if k else None for e, k in zip(employees.tolist(), known.tolist(), strict=True)],
        [
            float(e) * 120_000.0 if k else None
            for e, k in zip(employees.tolist(), known.tolist(), strict=True)
        ],
        pick(rng, COUNTRIES, n),
        ["{}"] * n,
        strict=True,
    )
    columns = (
        "id",
        "domain",
        "name",
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "attributes",
    )
    tail = (0.0, 0.0, 0.0, 0, STAMP, STAMP)
    insert(
        con,
        "accounts",
        (*columns, "fit", "engagement", "total", "engaged_leads", "created_at", "updated_at"),
        (row + tail for row in rows),
    )
    return domains


def lead_rows(rng: np.random.Generator, n: int, domains: list[str]) -> Iterator[tuple[Any, ...]]:
    titles = dict(TITLES)
    titles[None] = 8  # no title at all
    tail = [
        f"{a} {b}"
        for a in ("Senior", "Lead", "Junior", "Regional", "Global")
        for b in (
            "Buyer",
            "Planner",
            "Specialist",
            "Coordinator",
            "Associate",
            "Advisor",
            "Officer",
        )
    ]
    kind = rng.choice(4, n, p=[0.75, 0.2, 0.03, 0.02])
    account = rng.integers(0, len(domains), n)
    title = pick(rng, titles, n)
    odd = rng.random(n) < 0.05
    for i in range(n):
        k, a = int(kind[i]), int(account[i])
        domain = (domains[a], FREE_MAIL[i % 4], f"uni{i % 300}.edu", "zapflow.com")[k]
        yield (
            i + 1,
            f"person{i}@{domain}",
            f"First{i % 5000}",
            f"Last{i % 7919}",
            tail[i % len(tail)] if odd[i] else title[i],
            None,
            ("US", "GB", "DE", "IN", "BR", "FR", None)[i % 7],
            ("webinar", "organic", "paid", "referral")[i % 4],
            None,
            f"campaign-{i % 40}",
            "{}" if i % 10 else '{"plan": "free"}',
            a + 1 if k == 0 else None,
            "lead",
            0.0, 0.0, 0.0, None, None, "[]", STAMP, STAMP,
        )  # fmt: skip


def build_leads(con: Any, rng: np.random.Generator, n: int, domains: list[str]) -> None:
    columns = (
        "id", "email", "first_name", "last_name", "title", "phone", "country", "source",
        "medium", "campaign", "attributes", "account_id", "stage", "fit", "engagement", "total",
        "grade", "persona", "contributions", "created_at", "updated_at",
    )  # fmt: skip
    insert(con, "leads", columns, lead_rows(rng, n, domains))


def build_events(con: Any, rng: np.random.Generator, leads: int, count: int) -> None:
    weights = rng.pareto(1.1, leads) + 0.05
    paths, path_p = page_paths()
    page_props = [
        json.dumps(
            {"path": p, "url": f"https://flowline.example{p}", "title": p.strip("/").title()}
        )
        for p in paths
    ]
    track_names = list(TRACKS)
    track_p = np.array(list(TRACKS.values()), dtype=float)
    track_props = [json.dumps({"campaign": f"campaign-{k}", "channel": "email"}) for k in range(50)]
    contexts = [
        json.dumps(
            {
                "ip": f"10.0.{k}.{k * 7 % 255}",
                "library": {"name": "analytics.js", "version": "4.1.0"},
                "userAgent": f"Mozilla/5.0 (X11; Linux x86_64) Chrome/{100 + k}.0",
            }
        )
        for k in range(20)
    ]
    ages = np.sort(
        np.minimum(rng.exponential(60 * 86_400e6, count), 365 * 86_400e6).astype(np.int64)
    )[::-1]
    moments = np.datetime64(NOW.replace(tzinfo=None), "us") - ages.astype("timedelta64[us]")
    micros = moments.astype(np.int64)
    page_kinds = [kind_of("page", None, {"path": p}) for p in paths]
    track_kinds = [kind_of("track", n, {}) for n in track_names]
    identify_kind = kind_of("identify", None, {})
    columns = ("id", "lead_id", "anonymous_id", "source", "message_id", "type", "name",
               "properties", "context", "occurred_at", "received_at", "occurred_us",
               "kind")  # fmt: skip
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        lead = rng.choice(leads, size, p=weights / weights.sum()) + 1
        kind = rng.choice(3, size, p=[0.65, 0.30, 0.05])
        page = rng.choice(len(paths), size, p=path_p)
        track = rng.choice(len(track_names), size, p=track_p / track_p.sum())
        extra = rng.integers(0, 1000, size)
        when = stamps(moments[start : start + size])
        us = micros[start : start + size].tolist()
        rows = []
        for j in range(size):
            k, x = int(kind[j]), int(extra[j])
            if k == 0:
                type_, name, props, code = "page", None, page_props[page[j]], page_kinds[page[j]]
            elif k == 1:
                t = track[j]
                type_, name, code = "track", track_names[t], track_kinds[t]
                props = track_props[x % 50]
            else:
                type_, name, props, code = "identify", None, "{}", identify_kind
            rows.append((start + j + 1, int(lead[j]), None, "segment", f"{start + j:012x}",
                         type_, name, props, contexts[x % 20], when[j], when[j], us[j],
                         code))  # fmt: skip
        insert(con, "events", columns, rows)
        print(f"  events {start + size:,}/{count:,}", flush=True)


def build(url: str, leads: int, events: int, seed: int) -> None:
    """A fresh database at `url` with the schema, the B2B playbook and synthetic data."""
    meta = {"leads": leads, "events": events, "seed": seed, "format": FORMAT_VERSION}
    if url.startswith("sqlite"):
        build_sqlite(Path(url.removeprefix("sqlite:///")), leads, events, seed, meta)
    else:
        build_postgresql(url, leads, events, seed, meta)


def install(url: str) -> None:
    """The current schema and the B2B playbook, through the app's own code."""
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        playbooks.install(session, PLAYBOOK.read_text(), author="benchmark", now=NOW)
    engine.dispose()


def load(con: Any, leads: int, events: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    book = parse_playbook(PLAYBOOK.read_text())
    domains = build_accounts(con, rng, book, max(leads // 10, 20))
    build_leads(con, rng, leads, domains)
    build_events(con, rng, leads, events)


def build_sqlite(path: Path, leads: int, events: int, seed: int, meta: dict[str, Any]) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    install(f"sqlite:///{path}")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    # Loading first and indexing afterwards is several times faster than the other way round.
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        " AND tbl_name IN ('events', 'leads') AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        con.execute(f"DROP INDEX {name}")
    con.execute("BEGIN")
    load(con, leads, events, seed)
    for _, sql in indexes:
        con.execute(sql)
    con.execute("CREATE TABLE benchmark_meta (key TEXT PRIMARY KEY, value TEXT)")
    con.executemany(
        "INSERT INTO benchmark_meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()]
    )
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def psycopg_connect(url: str, **options: Any) -> Any:
    """A plain psycopg connection to a SQLAlchemy PostgreSQL URL (`tests/sqlite_copy.py`)."""
    from tests.sqlite_copy import connect  # _db put the checkout on the path

    return connect(url, **options)


def empty_schema(url: str) -> None:
    """Drop an earlier build (a database holding benchmark_meta); refuse any other data."""
    with psycopg_connect(url, autocommit=True) as con:
        tables = [row[0] for row in con.execute("SELECT tablename FROM pg_tables"
                                                " WHERE schemaname = 'public'")]  # fmt: skip
        if tables and "benchmark_meta" not in tables:
            sys.exit(f"{url.split('@')[-1]} holds tables but no earlier benchmark build:"
                     " give an empty database")  # fmt: skip
        con.execute("DROP SCHEMA public CASCADE")
        con.execute("CREATE SCHEMA public")


def build_postgresql(url: str, leads: int, events: int, seed: int, meta: dict[str, Any]) -> None:
    empty_schema(url)
    install(url)
    with psycopg_connect(url) as con:
        con.execute("SET TIME ZONE 'UTC'")  # the stamps are UTC wall-clock text
        # As on SQLite: load first, index afterwards (the indexes behind constraints stay).
        indexes = con.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename IN ('events', 'leads')"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        load(con, leads, events, seed)
        for _, sql in indexes:
            con.execute(sql)
        for table in ("accounts", "leads", "events"):  # the ids were given: move the sequences
            con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))")  # fmt: skip
        con.execute("CREATE TABLE benchmark_meta (key TEXT PRIMARY KEY, value TEXT)")
        with con.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO benchmark_meta VALUES (%s, %s)", [(k, str(v)) for k, v in meta.items()]
            )
        con.commit()
    with psycopg_connect(url, autocommit=True) as con:
        con.execute("VACUUM (ANALYZE)")  # statistics, and the visibility map for index-only scans


def matches(url: str, leads: int, events: int, seed: int) -> bool:
    """True when `url` holds a finished build of these sizes."""
    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("benchmark_meta"):
                return False
            rows = connection.execute(text("SELECT key, value FROM benchmark_meta")).all()
    finally:
        engine.dispose()
    wanted = {"leads": leads, "events": events, "seed": seed, "format": FORMAT_VERSION}
    return dict(rows) == {k: str(v) for k, v in wanted.items()}


def machine() -> str:
    """Cores, CPU model and library versions, for the record."""
    model = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor() or "unknown CPU",
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"NumPy {np.__version__}"
    )


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (user + system)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def baseline(url: str) -> None:
    """Read the columns a re-score reads, and nothing else: the floor for its reads; on
    SQLite, then the floor for its write (`bare_write`)."""
    book = parse_playbook(PLAYBOOK.read_text())
    engine = make_engine(url)
    selection = rescore_leads.selection(book, rescore_leads.lead_paths(book))
    with make_session_factory(engine)() as session, session.begin():
        for name, read in (
            ("events: lead, time, kind", lambda: event_columns.read_event_kinds(session)),
            ("leads: the same query", lambda: rescoring_reads.read_leads_arrow(session, selection)),
        ):
            wall, cpu = time.perf_counter(), cpu_seconds()
            found = read()
            print(
                f"  baseline {name:<32} {time.perf_counter() - wall:6.1f} s"
                f" {cpu_seconds() - cpu:6.1f} s CPU"
                + ("" if found is not None else " (not read as columns)")
            )
    engine.dispose()
    if url.startswith("sqlite"):
        bare_write(url)


# The columns a first scoring writes for every lead (`rescoring.write_lead_scores`).
WRITTEN = ("fit", "engagement", "total", "grade", "persona", "score_band", "contributions",
           "scored_at", "updated_at")  # fmt: skip


def bare_write(url: str) -> None:
    """What SQLite itself costs for a first scoring's write, on this machine: every lead's
    score columns set by one UPDATE by id each (plain `sqlite3`, no SQLAlchemy, synthetic
    values of the same shape, contributions of the length a first scoring writes), with the
    indexes holding those columns dropped first and built again after, as the write sets
    them aside. Timed per part, in a transaction rolled back."""
    from leadflow.models.db import SQLITE_PRAGMAS
    from leadflow.repositories._bulk import BULK_CACHE_KIB
    from leadflow.repositories._rebuild import _indexes_on

    engine = make_engine(url)
    with engine.connect() as sqlalchemy_connection:  # the indexes the product sets aside
        aside = _indexes_on(sqlalchemy_connection, "leads", set(WRITTEN))
    engine.dispose()
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    connection.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")  # as `rescoring.bulk_writes`
    for pragma in SQLITE_PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    ids = [row[0] for row in connection.execute("SELECT id FROM leads ORDER BY id")]
    rows = _bare_rows(ids)
    connection.execute("BEGIN")
    try:
        _timed("drop the indexes set aside", lambda: [
            connection.execute(f'DROP INDEX "{name}"') for name, _, _ in aside])  # fmt: skip
        sets = ", ".join(f"{name} = ?" for name in WRITTEN)
        _timed(f"UPDATE {len(ids):,} leads by id", lambda: connection.executemany(
            f"UPDATE leads SET {sets} WHERE id = ?", rows))  # fmt: skip
        _timed(f"build {len(aside)} indexes again", lambda: [
            connection.execute(sql) for _, _, sql in aside])  # fmt: skip
        narrow_write(connection, rows)
    finally:
        connection.execute("ROLLBACK")
        connection.close()


# A table of scores alone (not the schema: what the write would cost if scores lived apart
# from the wide lead rows), with indexes for what the wide ones serve of scores.
NARROW = (
    "CREATE TABLE bench_narrow_scores (lead_id INTEGER PRIMARY KEY, fit REAL NOT NULL,"
    " engagement REAL NOT NULL, total REAL NOT NULL, grade TEXT, persona TEXT,"
    " score_band INTEGER NOT NULL, contributions TEXT NOT NULL, scored_at TEXT)"
)
NARROW_INDEXES = (
    "CREATE INDEX bench_narrow_total ON bench_narrow_scores (total)",
    "CREATE INDEX bench_narrow_persona ON bench_narrow_scores (persona)",
    "CREATE INDEX bench_narrow_ranks ON bench_narrow_scores (score_band, grade, persona)",
)


def narrow_write(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """The same scores written whole into a new narrow table, then its indexes built: the
    floor of a first scoring's write were scores a table of their own (README, "Re-scoring a
    million leads")."""
    narrow = [(r[-1], *r[:8]) for r in rows]  # lead id first; updated_at stays with the lead
    connection.execute(NARROW)
    _timed(f"INSERT {len(rows):,} into a narrow table", lambda: connection.executemany(
        "INSERT INTO bench_narrow_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", narrow))  # fmt: skip
    _timed(f"build its {len(NARROW_INDEXES)} indexes", lambda: [
        connection.execute(sql) for sql in NARROW_INDEXES])  # fmt: skip


def _bare_rows(ids: list[int]) -> list[tuple[Any, ...]]:
    """Synthetic scores for these leads, as the write binds them."""
    rng = np.random.default_rng(1)
    fit = np.round(rng.uniform(0, 60, len(ids)), 2).tolist()
    engagement = np.round(rng.uniform(0, 90, len(ids)), 2).tolist()
    total = np.round(np.add(fit, engagement), 2).tolist()
    grades = rng.choice(list("ABCD"), len(ids)).tolist()
    personas = rng.choice(["ops_leader", "it_buyer", "end_user"], len(ids)).tolist()
    entry = '{"rule": "r%d", "label": "A rule of the playbook", "kind": "fit", "points": %s}'
    texts = [
        "[" + ", ".join(entry % (k, p) for k in range(4)) + "]"
        for p in np.round(rng.uniform(0, 20, len(ids)), 2).tolist()
    ]
    return [
        (f, e, t, g, p, min(int(t // 10), 9), c, STAMP, STAMP, i)
        for f, e, t, g, p, c, i in zip(
            fit, engagement, total, grades, personas, texts, ids, strict=True
        )
    ]


def _timed(name: str, work: Any) -> None:
    wall, cpu = time.perf_counter(), cpu_seconds()
    work()
    print(f"  baseline {name:<32} {time.perf_counter() - wall:6.1f} s"
          f" {cpu_seconds() - cpu:6.1f} s CPU")  # fmt: skip


def scored_copy(url: str) -> str:
    """A copy of the database scored (and committed) a day before NOW, made once: a file
    beside the SQLite one, or database NAME_scored beside the PostgreSQL one."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        copy = path.with_name(path.stem + "-scored.db")
        if not copy.exists():
            shutil.copyfile(path, f"{copy}.part")
            score_a_day_before(f"sqlite:///{copy}.part")
            Path(f"{copy}.part").rename(copy)
        return f"sqlite:///{copy}"
    from sqlalchemy import make_url

    original = make_url(url)
    name = f"{original.database}_scored"
    with psycopg_connect(original.set(database="postgres").render_as_string(False),
                         autocommit=True) as con:  # fmt: skip
        exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            con.execute(f'DROP DATABASE IF EXISTS "{name}_part"')
            con.execute(f'CREATE DATABASE "{name}_part" TEMPLATE "{original.database}"')
            score_a_day_before(original.set(database=f"{name}_part").render_as_string(False))
            con.execute(f'ALTER DATABASE "{name}_part" RENAME TO "{name}"')
    return original.set(database=name).render_as_string(hide_password=False)


def score_a_day_before(url: str) -> None:
    print(f"scoring a copy a day before {NOW:%Y-%m-%d}", flush=True)
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        rescore_all(session, parse_playbook(PLAYBOOK.read_text()), NOW - timedelta(days=1))
    engine.dispose()


def run(db: Database, url: str, *, commit: bool) -> None:
    """Re-score every lead once, and print the figures."""
    print(f"{machine()}, {db.describe()}")
    print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    book = parse_playbook(PLAYBOOK.read_text())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    marks: list[tuple[str, float, float]] = []  # phase, CPU here, CPU of the database server

    def progress(phase: str) -> None:
        marks.append((phase, cpu_seconds(), db.cpu()))
        print(f"  {phase}", flush=True)

    with factory() as session:
        session.begin()
        result = rescore_all(session, book, NOW, progress=progress)
        finish = time.perf_counter()
        marks.append(("", cpu_seconds(), db.cpu()))
        session.commit() if commit else session.rollback()
        closing = time.perf_counter() - finish
    engine.dispose()
    wall = time.perf_counter() - started
    seconds = result.seconds
    print(f"re-scored {result.leads:,} leads from {result.events:,} events in {seconds:.1f} s")
    print(f"  {result.written:,} leads' stored scores changed, {result.changed:,} totals moved")
    print(f"  {result.leads / seconds:,.0f} leads/s, {result.events / seconds:,.0f} events/s")
    cpu = {a[0]: (b[1] - a[1], b[2] - a[2]) for a, b in pairwise(marks)}
    server = "   database server CPU" if db.server_pid else ""
    print(f"  {'phase':<24} {'wall':>6}   CPU (this process and its children){server}")
    for phase, spent in result.phases.items():
        here, there = cpu.get(phase, (0.0, 0.0))
        extra = f" {there:33.1f} s" if db.server_pid else ""
        print(f"  {phase:<24} {spent:6.1f} s {here:6.1f} s{extra}")
    print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    print(f"  {'commit' if commit else 'rollback':<24} {closing:6.1f} s   (wall {wall:.1f} s)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--db", default="", help=HELP)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="Build the database again.")
    parser.add_argument("--commit", action="store_true", help="Commit the re-score (and time it).")
    parser.add_argument("--build-only", action="store_true", help="Build, do not re-score.")
    parser.add_argument("--scored", action="store_true", help="Re-score a scored copy.")
    parser.add_argument("--baseline", action="store_true", help="Also time bare reads, write.")
    args = parser.parse_args(argv)
    key = f"{args.leads}-{args.events}-v{FORMAT_VERSION}"
    sqlite_file = Path(tempfile.gettempdir()) / f"leadflow-rescore-{key}.db"
    with database(args.db, sqlite_file=sqlite_file, keep_under=f"leadflow-rescore-pg-{key}") as db:
        url = db.url
        if args.rebuild or not matches(url, args.leads, args.events, args.seed):
            print(f"building {args.leads:,} leads, {args.events:,} events", flush=True)
            started = time.perf_counter()
            build(url, args.leads, args.events, args.seed)
            print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        else:
            print("reusing the database built earlier")
            upgrade(url)
        if args.build_only:
            return 0
        if args.scored:
            url = scored_copy(url)
        run(db, url, commit=args.commit)
        if args.baseline:
            baseline(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
