"""A database that is read-only or locked by another writer: a quick 503, never a 500."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from leadflow.core.roles import Role
from leadflow.services import keys, users
from tests.api.conftest import NOW, bearer

TRACK = {"userId": "u-1", "event": "Pricing Viewed", "messageId": "m-{n}"}


def _make_read_only(path: Path) -> Callable[[], None]:
    """Make the file truly unwritable for this process (root ignores modes: immutable flag)."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return lambda: os.chmod(path, 0o644)
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("running as root without chattr +i: cannot make a file read-only")
    return lambda: subprocess.run([chattr, "-i", str(path)], check=False)


@pytest.fixture
def read_only(app: FastAPI, sqlite_url: str) -> Iterator[dict[str, str]]:
    """Keys and a user made first, then the SQLite file made unwritable under the app."""
    with app.state.sessions() as session, session.begin():
        made = {
            "ingest": keys.create(session, Role.INGEST, "site", NOW).secret,
            "admin": keys.create(session, Role.ADMIN, "ops", NOW).secret,
        }
        users.create_user(session, email="nora@acme.test", name="Nora", role="rep",
                          password="a long password", now=NOW)  # fmt: skip
    app.state.engine.dispose()  # checkpoints the WAL: the file holds everything
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    restore = _make_read_only(path)
    app.state.restore_writes = restore
    yield made
    app.state.engine.dispose()
    restore()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_read_only_database_is_503_with_retry_after(
    read_only: dict[str, str], client: TestClient
) -> None:
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "not writable" in health.json()["error"]["message"]

    track = client.post("/v1/track", json=TRACK, auth=(read_only["ingest"], ""))
    assert track.status_code == 503
    assert track.headers["retry-after"] == "1"
    assert "not writable" in track.json()["error"]["message"]

    created = client.post(
        "/api/leads", json={"email": "ann@acme.test"}, headers=bearer(read_only["admin"])
    )
    assert created.status_code == 503
    assert created.json()["error"]["status"] == 503
    # Reading needs no write: a read-only database still answers reads.
    assert client.get("/api/leads", headers=bearer(read_only["admin"])).status_code == 200

    form = client.get("/login")
    assert form.status_code == 200
    token = client.cookies.get("lf_login_csrf")
    login = client.post(
        "/login",
        data={"email": "nora@acme.test", "password": "a long password", "csrf_token": token},
        follow_redirects=False,
    )
    assert login.status_code == 503
    assert login.headers["content-type"].startswith("text/html")
    assert "try again" in login.text
    assert login.headers["retry-after"] == "1"

    client.app.state.restore_writes()  # type: ignore[attr-defined]
    # Writable again: the next write works, without restarting the server.
    assert client.get("/healthz").status_code == 200
    track = client.post("/v1/track", json=TRACK, auth=(read_only["ingest"], ""))
    assert track.status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_reads_do_not_write_so_a_held_write_lock_does_not_fail_them(
    app: FastAPI, client: TestClient, database_url: str, make_key: Callable[[Role], str]
) -> None:
    key = make_key(Role.SALES)
    release = _hold_lock(database_url, "api_keys")
    try:
        answer = client.get("/api/leads", headers=bearer(key))
    finally:
        release()
    assert answer.status_code == 200
    # Its use is still recorded, after the response and in a transaction of its own.
    other = make_key(Role.SALES)
    assert client.get("/api/leads", headers=bearer(other)).status_code == 200
    with app.state.sessions() as session:
        used = [k.last_used_at for k in keys.list_keys(session)]
    assert used[-1] is not None


def _hold_lock(database_url: str, tables: str = "events, leads") -> Callable[[], None]:
    """Another connection takes the write lock (SQLite) or locks tables (PostgreSQL)."""
    engine = create_engine(database_url)
    connection = engine.connect()
    if engine.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:  # EXCLUSIVE: others may read, not write
        connection.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))

    def release() -> None:
        connection.rollback()
        connection.close()
        engine.dispose()

    return release


def test_locked_database_answers_every_queued_writer_within_a_second(
    database_url: str, live_url: str, make_key: Callable[[Role], str]
) -> None:
    key = make_key(Role.INGEST)
    release = _hold_lock(database_url)
    try:

        def send(n: int) -> tuple[int, str | None, float]:
            body = {**TRACK, "messageId": f"m-{n}"}
            started = time.monotonic()
            answer = httpx.post(f"{live_url}/v1/track", json=body, auth=(key, ""), timeout=60)
            return answer.status_code, answer.headers.get("retry-after"), time.monotonic() - started

        started = time.monotonic()
        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(send, range(5)))
        took = time.monotonic() - started
        if database_url.startswith("sqlite"):
            health = httpx.get(f"{live_url}/healthz", timeout=60)
            assert health.status_code == 503
            assert "locked" in health.json()["error"]["message"]
    finally:
        release()
    assert [(status, retry) for status, retry, _ in answers] == [(503, "1")] * 5
    # Before: each queued writer waited 5 s in turn, the fifth 25 s. A bound, not a benchmark.
    assert took < 5, answers
    after = httpx.post(f"{live_url}/v1/track", json=TRACK, auth=(key, ""), timeout=60)
    assert after.status_code == 200
    assert httpx.get(f"{live_url}/healthz", timeout=60).status_code == 200
