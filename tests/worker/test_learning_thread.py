"""Retraining never holds up alerts: the worker trains in a thread of its own.

Training on thousands of outcomes takes seconds to minutes; while it ran in the worker's
loop, every alert due meanwhile (a hand-off to a rep, an SLA breach) waited for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from leadflow.models.user import User
from leadflow.services import webhooks
from leadflow.worker import Worker
from tests.api.conftest import app, client, make_key
from tests.api.test_handoff import demo_request
from tests.api.test_in_app import notes, team

__all__ = ["app", "client", "make_key", "team"]


class SlowLearner(Worker):
    """A worker whose training takes until the test says it is done."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app.state.sessions)
        self.training = threading.Event()
        self.trained = threading.Event()

    def learn(self) -> dict[str, object] | None:
        self.training.set()
        self.trained.wait(30)
        return None


def test_an_alert_is_delivered_while_the_model_trains(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], team: dict[str, User]
) -> None:
    demo_request(client, make_key(Role.INGEST), "sam@unlisted-co.io")
    [first] = notes(app)
    worker = SlowLearner(app)
    thread = worker.start_thread()
    try:
        assert worker.training.wait(10)  # the first pass finds retraining due
        with app.state.sessions() as session, session.begin():
            assert webhooks.replay(session, first.alert_id, first.created_at) == 1
        worker.wake.set()
        deadline = time.monotonic() + 10
        while len(notes(app)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(notes(app)) == 2, "the alert waited for training"
        assert not worker.trained.is_set()
    finally:
        worker.trained.set()
        worker.stop.set()
        worker.wake.set()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_training_at_a_time(app: FastAPI) -> None:
    worker = SlowLearner(app)
    worker._last_learn = 0.0
    first = worker.learn_in_background()
    assert first is not None and worker.training.wait(10)
    assert worker.learn_in_background() is None  # still training: not a second one
    worker.trained.set()
    first.join(10)
    assert worker.learn_in_background() is not None
