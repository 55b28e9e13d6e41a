"""The container's entrypoint (docker/entrypoint.sh), run as the image runs it, without Docker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import inspect, text

from leadflow.models.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def _env(database_url: str, **extra: str) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # where this environment's `leadflow` lives
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "LEADFLOW_DATABASE_URL": database_url, **extra}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return str(connection.execute(text("SELECT max(version_num) FROM alembic_version"))
                       .scalar())  # fmt: skip
    finally:
        engine.dispose()


def test_serve_migrates_then_answers_health_checks(database_url: str) -> None:
    port = _free_port()
    env = _env(database_url, LEADFLOW_HOST="127.0.0.1", LEADFLOW_PORT=str(port))
    server = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "serve", "--no-worker"], env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
            except httpx.TransportError:
                status = None
            if status == 200:
                break
            time.sleep(0.25)
        assert status == 200, server.stdout.read().decode() if server.poll() is not None else ""
        assert _revision(database_url) is not None  # migrated before serving
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_migrate_only_and_skipping_migrations(database_url: str) -> None:
    skipped = subprocess.run(
        ["sh", str(ENTRYPOINT), "migrate"], env=_env(database_url, LEADFLOW_MIGRATE="0"),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert skipped.returncode == 0 and _revision(database_url) is None
    migrated = subprocess.run(
        ["sh", str(ENTRYPOINT), "migrate"], env=_env(database_url),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert "database ready" in migrated.stdout and _revision(database_url) is not None


def test_a_wrong_database_url_is_one_clear_line() -> None:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "serve"],
        env=_env("postgresql://nobody:secret@127.0.0.1:1/none"),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "secret" not in result.stderr
    assert "error: database" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
