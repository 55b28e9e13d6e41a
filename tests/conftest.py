"""Shared test fixtures: database URLs for SQLite and PostgreSQL.

Fixtures:

* ``database_url`` - parametrized over ``sqlite`` and ``postgresql``; every test that uses it
  runs once per engine, each time against a fresh, empty database.
* ``sqlite_url`` / ``postgresql_url`` - the same, for one engine only.
* ``postgresql_proc`` - the session's PostgreSQL server (pytest-postgresql), started lazily
  on first use through ``tests/pg_ctl_wrapper.sh`` (which copes with running as root).
* ``migrate`` - ``migrate(url)`` makes of the new, empty database at ``url`` what
  ``upgrade(url)`` would (every migration to the head), by copying one database migrated once
  per session and engine: the fixtures that need a migrated database use it instead of
  running two dozen migrations again for every test. The migrations' own tests and the
  commands under test (``leadflow init``, the entrypoint) still run them.
* ``prepared`` - ``prepared(url, name, prepare)`` does the same for a migrated database that a
  fixture prepares further the same way every time (the API tests' app applies the B2B
  playbook): prepared once per session, engine and name, then copied.
* ``template_database(request, tmp_path_factory, engine)`` - a database that a module-scoped
  fixture builds once (an expensive demo company, say); ``Template.copy`` gives each test a
  copy of its own (the SQLite file copied, or ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL),
  so a test that writes changes nothing another test sees. ``ENGINES`` parametrises such a
  fixture over both engines, as ``database_url`` is.

PostgreSQL tests are marked ``postgres`` (deselect with ``-m "not postgres"``). Without the
server binaries they are skipped, unless ``LEADFLOW_REQUIRE_POSTGRES=1`` (set by
``dev.py test`` under CI), in which case they fail.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from pytest_postgresql import factories
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine, make_session_factory, upgrade
from tests.postgres_server import PG_CTL_WRAPPER, TEST_OPTIONS, find_pg_ctl, url_of

# The wrapper, its options and find_pg_ctl live in tests/postgres_server.py, which the
# benchmarks' `--db postgresql` uses too.
postgresql_proc = factories.postgresql_proc(
    executable=str(PG_CTL_WRAPPER), postgres_options=TEST_OPTIONS
)


# A server of its own for the tests that stop and start PostgreSQL under load, so the other
# tests' server never goes away under them (`restartable_postgresql_proc`).
restartable_postgresql_proc = factories.postgresql_proc(
    executable=str(PG_CTL_WRAPPER), postgres_options=TEST_OPTIONS
)


def _postgres_required() -> bool:
    return os.environ.get("LEADFLOW_REQUIRE_POSTGRES", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite database file in the test's temporary folder."""
    return f"sqlite:///{tmp_path}/t.db"


@pytest.fixture
def postgresql_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh PostgreSQL database, dropped after the test."""
    _require_pg_ctl()
    # Session-scoped: the server starts on the first request and is reused afterwards.
    yield from database_on(request.getfixturevalue("postgresql_proc"))


def _require_pg_ctl() -> None:
    if find_pg_ctl() is None:
        message = (
            "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin); "
            "install them with: apt-get install -y postgresql"
        )
        if _postgres_required():
            pytest.fail(f"LEADFLOW_REQUIRE_POSTGRES is set but {message}", pytrace=False)
        pytest.skip(message)


def database_on(proc: PostgreSQLExecutor, template: str | None = None) -> Iterator[str]:
    """A fresh database on this server (a copy of database `template` if given), its URL
    yielded, dropped afterwards."""
    dbname = f"test_{uuid.uuid4().hex[:12]}"
    janitor = DatabaseJanitor(
        user=proc.user,
        host=proc.host,
        port=proc.port,
        dbname=dbname,
        template_dbname=template or proc.template_dbname,
        maintenance_dbname=proc.maintenance_dbname,
        password=proc.password,
    )
    # Creates the database on enter; on exit terminates leftover connections and drops it.
    with janitor:
        yield url_of(proc, dbname)


@pytest.fixture
def restartable_postgresql_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh database on a server of its own (`restartable_postgresql_proc`), which
    the test may stop and start."""
    _require_pg_ctl()
    yield from database_on(request.getfixturevalue("restartable_postgresql_proc"))


# Both engines, as a fixture's params (the PostgreSQL one marked `postgres`).
ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, empty database; tests using it run once per engine."""
    name = "sqlite_url" if request.param == "sqlite" else "postgresql_url"
    url: str = request.getfixturevalue(name)
    return url


@dataclass(frozen=True)
class Template:
    """A database built once, of which every test gets a copy of its own."""

    url: str
    proc: PostgreSQLExecutor | None  # None: a SQLite file
    dbname: str = ""

    def copy(self, tmp_path: Path) -> Iterator[str]:
        """The URL of a new copy, dropped after the test (SQLite's lives in `tmp_path`).
        Whoever built the template must have disposed of its engine (no open connection)."""
        if self.proc is None:
            target = tmp_path / "t.db"
            source = self.url.removeprefix("sqlite:///")
            # SQLite's backup API copies a consistent database whatever its WAL holds.
            with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
                src.backup(dst)
            yield f"sqlite:///{target}"
        else:
            yield from database_on(self.proc, template=self.dbname)


@contextmanager
def template_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, engine: str
) -> Iterator[Template]:
    """An empty database on this engine for a fixture to build once, then hand out copies."""
    if engine == "sqlite":
        folder = tmp_path_factory.mktemp("template")
        yield Template(url=f"sqlite:///{folder}/template.db", proc=None)
        return
    _require_pg_ctl()
    proc: PostgreSQLExecutor = request.getfixturevalue("postgresql_proc")
    database = database_on(proc)
    url = next(database)
    try:
        yield Template(url=url, proc=proc, dbname=str(make_url(url).database))
    finally:
        database.close()  # drops it


Migrate = Callable[[str], None]
Prepare = Callable[[str], None]  # what a fixture does to a migrated database at this URL
Prepared = Callable[[str, str, Prepare], None]


class _MigratedCopies:
    """One migrated database per engine (and PostgreSQL server), built on first use, copied
    into the empty databases the tests are given; and, by name, migrated databases that a
    fixture prepared further (a playbook applied), built once and copied the same way."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.servers: set[tuple[str | None, int | None]] = set()
        self.built: set[tuple[str, tuple[str | None, int | None]]] = set()  # name, server
        self.filled: set[str] = set()  # two fixtures of one test may both ask

    def fill(self, url: str) -> None:
        if url in self.filled:
            return
        self.filled.add(url)
        target = make_url(url)
        if target.get_backend_name() == "sqlite":
            self._fill_sqlite(Path(str(target.database)))
        else:
            self._fill_postgresql(url)

    def fill_prepared(self, url: str, name: str, prepare: Prepare) -> None:
        """`fill(url)` then `prepare(url)`, made by copying a database so prepared once."""
        if url in self.filled:  # another fixture of the test migrated it already
            prepare(url)
            return
        self.filled.add(url)
        target = make_url(url)
        sqlite = target.get_backend_name() == "sqlite"
        server = (None, None) if sqlite else (target.host, target.port)
        template = f"prepared_{name}"
        if sqlite:
            built = self.folder / f"{template}.db"
            if (name, server) not in self.built:
                self._fill_sqlite(built)
                prepare(f"sqlite:///{built}")  # disposes of its engine: nothing stays open
                self.built.add((name, server))
            self._fill_sqlite(Path(str(target.database)), head=built)
            return
        if (name, server) not in self.built:
            with self._admin(url) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
            built_url = str(target.set(database=template).render_as_string(False))
            self._fill_postgresql(built_url)
            prepare(built_url)
            self.built.add((name, server))
        self._fill_postgresql(url, head=template)

    def _fill_sqlite(self, path: Path, head: Path | None = None) -> None:
        if head is None:
            head = self.folder / "head.db"
            if not head.exists():
                upgrade(f"sqlite:///{head}")  # disposes of its engine: nothing stays open
        assert not path.exists() or path.stat().st_size == 0, f"{path} is not a new database"
        with closing(sqlite3.connect(head)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)

    def _fill_postgresql(self, url: str, head: str = "migrated_head") -> None:
        target = make_url(url)
        server = (target.host, target.port)
        if server not in self.servers:
            with self._admin(url) as admin:
                admin.execute("CREATE DATABASE migrated_head")
            upgrade(str(target.set(database="migrated_head").render_as_string(False)))
            self.servers.add(server)
        name = sql.Identifier(str(target.database))
        with self._admin(url) as admin:
            # Nobody has connected to the new database yet: it is replaced by a copy.
            admin.execute(sql.SQL("DROP DATABASE {}").format(name))
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier(head))
            )

    @staticmethod
    def _admin(url: str) -> psycopg.Connection[Any]:
        target = make_url(url)
        return psycopg.connect(
            host=target.host, port=target.port, user=target.username,
            password=target.password, dbname="postgres", autocommit=True,
        )  # fmt: skip


@pytest.fixture(scope="session")
def migrated_copies(tmp_path_factory: pytest.TempPathFactory) -> _MigratedCopies:
    return _MigratedCopies(tmp_path_factory.mktemp("migrated"))


@pytest.fixture(scope="session")
def migrate(migrated_copies: _MigratedCopies) -> Migrate:
    """`migrate(url)`: the new, empty database at `url` migrated to the head (a copy)."""
    return migrated_copies.fill


@pytest.fixture(scope="session")
def prepared(migrated_copies: _MigratedCopies) -> Prepared:
    """`prepared(url, name, prepare)`: what `migrate(url)` then `prepare(url)` would make of
    the new, empty database at `url`, as a copy of one database so prepared once per session,
    engine and `name`. `prepare` must write the same rows whenever it runs (its clock a
    constant, nothing random) and dispose of its engine."""
    return migrated_copies.fill_prepared


@pytest.fixture
def engine(database_url: str, migrate: Migrate) -> Iterator[Engine]:
    """An engine on an upgraded database, for tests that open their own sessions (a test
    module may define its own `engine`: a bounded lock wait, a populated database)."""
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(database_url: str, migrate: Migrate) -> Iterator[Session]:
    """A session in an open transaction on an upgraded database; rolled back afterwards."""
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
            session.rollback()
    finally:
        engine.dispose()


def find_chromium() -> str | None:
    """Debian's Chromium (Playwright cannot download its own browser here)."""
    return (
        os.environ.get("LEADFLOW_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, pointed at the system Chromium."""
    chromium = find_chromium()
    if chromium is None:
        message = "Chromium not found; install it with: apt-get install -y chromium"
        if os.environ.get("LEADFLOW_REQUIRE_BROWSER", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"LEADFLOW_REQUIRE_BROWSER is set but {message}", pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": chromium}
