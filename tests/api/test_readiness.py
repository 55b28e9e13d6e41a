"""`/readyz`: ready only with the database reachable, migrations current and a live worker;
`/metrics` says how far behind the workers are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from leadflow.repositories import operations
from leadflow.worker import Worker


def test_not_ready_until_a_worker_reports(client: TestClient, app: FastAPI) -> None:
    waiting = client.get("/readyz")
    assert waiting.status_code == 503 and waiting.headers["retry-after"] == "5"
    assert "worker: no worker has reported yet" in waiting.json()["error"]["message"]
    Worker(app.state.sessions).sweep()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["ready"] is True
    assert {"migrations", "worker", "database"} <= set(ready.json()["checks"])


def test_a_silent_worker_or_a_missing_migration_is_named(client: TestClient, app: FastAPI) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    with app.state.sessions() as session, session.begin():
        operations.beat(session, "old-host:1:1", now=long_ago, started_at=long_ago)
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert "no worker heartbeat for 6" in stale.json()["error"]["message"]
    Worker(app.state.sessions).sweep()
    assert client.get("/readyz").status_code == 200
    with app.state.sessions() as session, session.begin():
        session.execute(text("DELETE FROM alembic_version WHERE version_num = '0014'"))
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert "migrations: not applied: 0014 (run leadflow init)" in behind.json()["error"]["message"]


def test_metrics_report_the_workers_lag(client: TestClient) -> None:
    body = client.get("/metrics").text
    assert 'leadflow_worker_lag_seconds{queue="alert"} 0.0' in body
    assert 'leadflow_worker_lag_seconds{queue="sla"} 0.0' in body
