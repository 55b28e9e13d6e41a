"""Two `leadflow serve` and two `leadflow worker` processes on one PostgreSQL, the same people's
events sent to both servers at once: every event stored exactly once, every lead handed off
once, and every alert received by a real webhook receiver exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from leadflow.models import Assignment, Event, Lead
from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.outbox import OutboxMessage
from leadflow.services import reps, webhooks
from tests import processes

PEOPLE = 24
SENDERS_PER_SERVER = 2


class Receiver:
    """A webhook receiver: the `webhook-id` of every delivery it got, retries included."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    receiver.ids.append(self.headers["webhook-id"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def _person(n: int, sender: int) -> list[dict[str, Any]]:
    """A person's news: the same identify and demo request from every sender (deduplicated by
    message id), plus a page view of this sender's own."""
    email = f"buyer{n}@company{n % 6}.com"
    traits = {"email": email, "title": "VP Operations",
              "company": {"name": f"Company {n % 6}", "employees": 300}}  # fmt: skip
    return [
        {"type": "identify", "userId": email, "traits": traits, "messageId": f"id-{n}"},
        {"type": "page", "userId": email, "properties": {"path": "/pricing"},
         "messageId": f"page-{n}-{sender}"},
        {"type": "track", "userId": email, "event": "Demo Requested", "messageId": f"demo-{n}"},
    ]  # fmt: skip


def _send(port: int, key: str, sender: int, sent: set[str], statuses: Counter[int]) -> None:
    order = list(range(PEOPLE)) if sender % 2 == 0 else list(reversed(range(PEOPLE)))
    with httpx.Client(auth=(key, ""), timeout=60) as client:
        for start in range(0, PEOPLE, 4):  # batches of four people, as clients flush
            batch = [m for n in order[start : start + 4] for m in _person(n, sender)]
            while True:  # a client retries what was not acknowledged, as Segment's do
                answer = client.post(f"http://127.0.0.1:{port}/v1/batch", json={"batch": batch})
                statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    break
                time.sleep(0.2)
            sent.update(m["messageId"] for m in batch)


def _setup(url: str, receiver: Receiver) -> str:
    key = processes.prepare(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        now = datetime.now(UTC)
        for name, team in (("ana", "enterprise"), ("cy", "inbound")):
            fields = {"email": f"{name}@flowline.io", "name": name.title(), "team": team,
                      "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
            reps.add_rep(session, fields, now=now)
        webhooks.add_endpoint(session, receiver.url, ["lead.sales_ready"], now=now)
    engine.dispose()
    return key


def _wait_until_delivered(url: str, timeout: float) -> None:
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                waiting = connection.scalar(
                    select(func.count()).where(OutboxMessage.delivered_at.is_(None))
                )
            if waiting == 0:
                return
            assert time.monotonic() < deadline, f"{waiting} alerts still undelivered"
            time.sleep(0.5)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_servers_and_two_workers_on_one_database(
    postgresql_url: str, receiver: Receiver
) -> None:
    url = postgresql_url
    key = _setup(url, receiver)
    ports = [processes.free_port(), processes.free_port()]
    running = [processes.serve(url, port, "--no-worker") for port in ports]
    running += [processes.start(url, "worker", "--interval", "0.1") for _ in range(2)]
    sent: set[str] = set()
    statuses: Counter[int] = Counter()
    try:
        senders = [
            threading.Thread(target=_send, args=(port, key, n, sent, statuses))
            for port in ports
            for n in range(SENDERS_PER_SERVER)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=600)
        _wait_until_delivered(url, timeout=180)
        time.sleep(1.0)  # a second delivery of anything would arrive now
    finally:
        outputs = [processes.stop(process) for process in running]
    # Contention between the servers is waited out, never answered 503 (or 500).
    assert set(statuses) == {200}, (statuses, outputs)
    assert all("Traceback" not in output for output in outputs), outputs

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            per_message = dict(
                connection.execute(
                    select(Event.message_id, func.count()).group_by(Event.message_id)
                ).all()
            )
            stages = Counter(connection.scalars(select(Lead.stage)))
            alerts = set(connection.scalars(select(OutboxMessage.alert_id)))
            handoffs = Counter(connection.scalars(select(Assignment.lead_id)))
    finally:
        engine.dispose()
    assert set(per_message) == sent  # none lost
    assert set(per_message.values()) == {1}  # none doubled
    assert stages == Counter({"sql": PEOPLE})
    assert len(handoffs) == PEOPLE and set(handoffs.values()) == {1}  # one hand-off per lead
    assert len(alerts) == PEOPLE  # and one sales-ready alert each
    received = Counter(receiver.ids)
    assert set(received) == alerts and set(received.values()) == {1}, received
    assert json.dumps(statuses)  # what the clients saw, in the failure message if any
