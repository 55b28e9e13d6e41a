"""PostgreSQL restarted under load: while it is down `leadflow serve` answers 503 with
`Retry-After`; once it is back the server recovers by itself; nothing acknowledged is lost."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from sqlalchemy import select

from leadflow.models import Event
from leadflow.models.db import make_engine
from tests import processes


class Sender(threading.Thread):
    """Sends tracking calls one per request until stopped; remembers every answer."""

    def __init__(self, port: int, key: str) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/v1/track"
        self.key = key
        self.stop = threading.Event()
        self.acknowledged: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.retry_after: set[str | None] = set()
        self.sent = 0

    def run(self) -> None:
        with httpx.Client(auth=(self.key, ""), timeout=30) as client:
            while not self.stop.is_set():
                message_id = f"m-{self.sent}"
                self.sent += 1
                body = {"userId": f"u-{self.sent % 20}", "event": "Pricing Viewed",
                        "messageId": message_id}  # fmt: skip
                answer = client.post(self.url, json=body)
                self.statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    self.acknowledged.append(message_id)
                elif answer.status_code == 503:
                    self.retry_after.add(answer.headers.get("retry-after"))
                    time.sleep(0.05)

    def wait_for(self, status: int, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        target = self.statuses[status] + count
        while self.statuses[status] < target:
            assert time.monotonic() < deadline, f"no {status} within {timeout} s: {self.statuses}"
            time.sleep(0.05)


@pytest.mark.postgres
def test_postgresql_restarted_under_load(
    restartable_postgresql_url: str, restartable_postgresql_proc: PostgreSQLExecutor
) -> None:
    url = restartable_postgresql_url
    key = processes.prepare(url)
    port = processes.free_port()
    server = processes.serve(url, port, "--no-worker")
    sender = Sender(port, key)
    try:
        sender.start()
        sender.wait_for(200, 20, timeout=60)
        restartable_postgresql_proc.stop()
        sender.wait_for(503, 5, timeout=60)
        down_answers = dict(sender.statuses)
        restartable_postgresql_proc.start()
        sender.wait_for(200, 20, timeout=120)  # back by itself: no restart of leadflow
    finally:
        sender.stop.set()
        sender.join(timeout=60)
        output = processes.stop(server)
    assert set(sender.statuses) <= {200, 503}, (sender.statuses, output)
    assert down_answers.get(503, 0) >= 5
    assert sender.retry_after == {"1"}
    assert "Traceback" not in output
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            stored = set(connection.scalars(select(Event.message_id)))
    finally:
        engine.dispose()
    assert set(sender.acknowledged) <= stored  # every acknowledged event is there
