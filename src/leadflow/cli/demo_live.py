"""The live demo: a thread that plays the demo company's website against the server's /v1.

It sends what `core.demo_traffic` makes of each second through the real front door (the
Segment endpoint, with a write key), so every event takes the path a customer's would: scoring,
stages, hand-off, alerts, the bell.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime

import httpx

from leadflow.core.demo_traffic import Rates, Traffic
from leadflow.services.demo_live import Seeds

log = logging.getLogger("leadflow.demo")
READY_WAIT = 120.0  # seconds to wait for the server to answer /healthz


def start(base: str, write_key: str, seeds: Seeds, seed: int, rates: Rates) -> threading.Event:
    """Start sending in a daemon thread; set the returned event to stop."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_run, args=(base, write_key, seeds, seed, rates, stop), name="leadflow-demo-live",
        daemon=True,
    )  # fmt: skip
    thread.start()
    return stop


def _run(base: str, key: str, seeds: Seeds, seed: int, rates: Rates, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, auth=(key, ""), timeout=10.0) as client:
        if not _ready(client, stop):
            log.error("live demo: the server did not come up; no live traffic")
            return
        traffic = Traffic(random.Random(seed), list(seeds.known), seeds.top_domains,
                          seeds.lead_domains, datetime.now(UTC), rates)  # fmt: skip
        beat = time.monotonic()
        while not stop.is_set():
            messages = traffic.tick(datetime.now(UTC))
            if messages:
                _send(client, messages)
            beat += 1.0
            stop.wait(max(0.0, beat - time.monotonic()))


def _ready(client: httpx.Client, stop: threading.Event) -> bool:
    deadline = time.monotonic() + READY_WAIT
    while time.monotonic() < deadline and not stop.is_set():
        try:
            if client.get("/healthz").status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        stop.wait(0.2)
    return False


def _send(client: httpx.Client, messages: list[dict[str, object]]) -> None:
    try:
        answer = client.post("/v1/batch", json={"batch": messages})
        if answer.status_code >= 400:
            log.warning("live demo: /v1/batch answered %s", answer.status_code)
    except httpx.HTTPError as exc:  # the server is busy or stopping: the next second tries
        log.warning("live demo: %s", type(exc).__name__)
