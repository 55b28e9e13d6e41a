"""Real leadflow processes for tests: `leadflow serve` and `leadflow worker` as an operator
runs them, a database prepared for them, and a stop that leaves nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from leadflow.core.roles import Role
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.services import keys, playbooks

LEADFLOW = str(Path(sys.executable).with_name("leadflow"))
B2B = (Path(__file__).resolve().parents[1] / "examples" / "b2b_saas.yaml").read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(url: str) -> str:
    """Migrate, install the B2B example playbook, and return a new ingest key's secret."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            now = datetime.now(UTC)
            playbooks.install(session, B2B, author="test", now=now)
            return keys.create(session, Role.INGEST, "test", now).secret
    finally:
        engine.dispose()


def start(url: str, *command: str, **env: str) -> subprocess.Popen[str]:
    """`leadflow COMMAND` in its own process group, output to a pipe (stderr merged)."""
    return subprocess.Popen(
        [LEADFLOW, *command],
        env={**os.environ, "LEADFLOW_DATABASE_URL": url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def serve(url: str, port: int, *extra: str, **env: str) -> subprocess.Popen[str]:
    """`leadflow serve` on this port, once /healthz answers 200."""
    server = start(url, "serve", "--port", str(port), *extra, **env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    output = stop(server)
    raise AssertionError(f"leadflow serve did not become healthy:\n{output}")


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM to the process group, then its output."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=30)
    return output or ""
