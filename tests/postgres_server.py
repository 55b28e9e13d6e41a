"""A local PostgreSQL server started with pg_ctl: the one piece of code the tests and the
benchmarks both use to get one.

The tests' session servers (`postgresql_proc` in conftest.py) and `python3 dev.py bench NAME
--db postgresql` start theirs through the same pg_ctl wrapper (`pg_ctl_wrapper.sh`, which
copes with running as root) and pytest-postgresql's executor. `local_server()` starts one in a
folder of its own and, when the block ends, stops it and removes the folder, unless `keep` is
set: then the data directory stays for the next run to start again (the large benchmark
databases are built once and reused, like their SQLite files).

Only the tests and the benchmarks import this (pytest-postgresql is a development dependency).
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_postgresql.executors import PostgreSQLExecutor
from sqlalchemy import URL

PG_CTL_WRAPPER = Path(__file__).with_name("pg_ctl_wrapper.sh")
# Durability is useless for throw-away test clusters; turning it off makes commits cheap.
TEST_OPTIONS = "-c synchronous_commit=off -c full_page_writes=off"
# Benchmarks measure a server as shipped: PostgreSQL's defaults (commits are durable).
BENCHMARK_OPTIONS = ""


@functools.cache
def find_pg_ctl() -> str | None:
    """Locate the real pg_ctl the same way the wrapper does (pg_config, then Debian layout)."""
    if shutil.which("pg_config"):
        try:
            bindir = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            bindir = ""
        candidate = Path(bindir, "pg_ctl")
        if bindir and os.access(candidate, os.X_OK):
            return str(candidate)
    for path in sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version_key, reverse=True
    ):
        if os.access(path, os.X_OK):
            return path
    return None


def _version_key(path: str) -> tuple[int, ...]:
    """(15,) for /usr/lib/postgresql/15/bin/pg_ctl, so 15 sorts above 9.6."""
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


class _Executor(PostgreSQLExecutor):
    """pytest-postgresql's executor, except that it starts an existing data directory as it is
    (its own would wipe it and run initdb again) and, with `keep`, never removes it."""

    keep = False

    def init_directory(self) -> None:
        if Path(self.datadir, "PG_VERSION").exists():
            return
        super().init_directory()

    def clean_directory(self) -> None:
        if not self.keep:
            super().clean_directory()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url_of(proc: PostgreSQLExecutor, dbname: str) -> str:
    """The SQLAlchemy URL of database `dbname` on the server `proc`."""
    url = URL.create(
        "postgresql+psycopg",
        username=proc.user,
        password=proc.password,
        host=proc.host,
        port=proc.port,
        database=dbname,
    )
    return url.render_as_string(hide_password=False)


def create_database(proc: PostgreSQLExecutor, dbname: str) -> str:
    """Create `dbname` on the server (when missing) and return its URL."""
    import psycopg

    maintenance = url_of(proc, proc.maintenance_dbname).replace("+psycopg", "")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{dbname}"')
    return url_of(proc, dbname)


def _refuse_if_running(datadir: Path) -> None:
    """Another process's server on this data directory (a kept benchmark build in use): fail
    before starting, since the cleanup below would otherwise stop the server it found."""
    try:
        pid = int((datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # a stale file from a server that died: PostgreSQL starts over it
    except PermissionError:
        pass  # alive, owned by another user (the postgres user when we are not root)
    raise RuntimeError(
        f"a PostgreSQL server is already running on {datadir} (pid {pid}): wait for the run "
        "using it, or stop it, before starting another on the same data"
    )


@contextmanager
def local_server(
    folder: Path | None = None, *, keep: bool = False, options: str = BENCHMARK_OPTIONS
) -> Iterator[PostgreSQLExecutor]:
    """A PostgreSQL server on a free local port with its data in `folder`/data.

    Without `folder` it lives in a new temporary folder. A folder that already holds a data
    directory is started as it is. When the block ends the server stops; the folder is
    removed unless `keep` (then the next call with the same folder starts the same data
    again). The folder is handed to the `postgres` user when running as root (the wrapper
    does that), so it must be one of its own, never a shared one like /tmp itself.
    """
    if find_pg_ctl() is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin);"
            " install them with: apt-get install -y postgresql"
        )
    home = folder or Path(tempfile.mkdtemp(prefix="leadflow-pg-"))
    home.mkdir(parents=True, exist_ok=True)
    _refuse_if_running(home.resolve() / "data")
    proc = _Executor(
        executable=str(PG_CTL_WRAPPER),
        host="127.0.0.1",
        port=free_port(),
        datadir=str(home.resolve() / "data"),
        unixsocketdir=str(home.resolve()),
        logfile=str(home.resolve() / "postgresql.log"),
        startparams="-w",
        dbname="leadflow",
        postgres_options=options,
        timeout=180,  # a shared machine starts slowly
    )
    proc.keep = keep
    try:
        proc.start()
        proc.wait_for_postgres()
        yield proc
    finally:
        if proc.running():
            proc.stop()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
