"""What `/v1` tells a write key about erased and do-not-track people: nothing. A message
about them is answered as one about anyone else, sent for the first time and replayed, so
the public key cannot test whether an address was erased or opted out (both engines)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.roles import Role
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from tests.api.conftest import bearer
from tests.api.test_privacy import basic, traces

ERASED = "ottilie.brennwald@contoso-test.io"
OPTED_OUT = "quiet.vermeer@contoso-test.io"
CONTROL = "plain.hartog@contoso-test.io"
FIRST = {"success": True, "stored": 1, "duplicates": 0, "rejected": []}
REPLAY = {"success": True, "stored": 0, "duplicates": 1, "rejected": []}


@pytest.fixture
def keys(make_key: Callable[[Role], str]) -> dict[Role, str]:
    return {role: make_key(role) for role in (Role.INGEST, Role.ADMIN)}


def send(client: TestClient, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/{path}", json=body, headers=basic(key))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def known(client: TestClient, key: str, email: str, tag: str, **traits: Any) -> None:
    """A person as a website makes one: a visit, the form's identify, a track call."""
    page = {"anonymousId": f"anon-{tag}", "messageId": f"{tag}-p0"}
    identify = {"anonymousId": f"anon-{tag}", "userId": f"u-{tag}", "messageId": f"{tag}-i0",
                "traits": {"email": email, **traits}}  # fmt: skip
    track = {"userId": f"u-{tag}", "event": "Webinar Attended", "messageId": f"{tag}-t0"}
    for path, body in (("page", page), ("identify", identify), ("track", track)):
        send(client, key, path, body)


def messages_about(email: str, tag: str, round_: str) -> list[tuple[str, dict[str, Any]]]:
    """New messages naming a person every way a website may: by e-mail, user id, cookie."""
    return [
        ("track", {"userId": email, "event": "Demo Requested", "messageId": f"{tag}-t{round_}"}),
        (
            "identify",
            {
                "userId": f"u-{tag}",
                "messageId": f"{tag}-i{round_}",
                "traits": {"email": email, "title": "CTO"},
            },
        ),
        (
            "page",
            {
                "anonymousId": f"anon-{tag}",
                "messageId": f"{tag}-p{round_}",
                "properties": {"path": "/pricing"},
            },
        ),
        ("track", {"userId": f"u-{tag}", "event": "Signed Up", "messageId": f"{tag}-s{round_}"}),
    ]


def answers(client: TestClient, key: str, email: str, tag: str, round_: str) -> list[Any]:
    """Each message alone, then all of them again in one batch under new ids, each sent twice."""
    found = []
    for path, body in messages_about(email, tag, round_):
        found.append([send(client, key, path, body) for _ in range(2)])
    batch = [{"type": p, **b} for p, b in messages_about(email, tag, round_ + "b")]
    found.append([send(client, key, "batch", {"batch": batch}) for _ in range(2)])
    return found


def expected() -> list[Any]:
    batch = [{"success": True, "stored": 4, "duplicates": 0, "rejected": []},
             {"success": True, "stored": 0, "duplicates": 4, "rejected": []}]  # fmt: skip
    return [[FIRST, REPLAY]] * 4 + [batch]


def stored_ids(app: FastAPI) -> set[str]:
    with app.state.sessions() as session:
        return set(session.scalars(select(Event.message_id)))


def test_an_erased_persons_messages_are_answered_as_anyone_elses(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    ingest, admin = keys[Role.INGEST], bearer(keys[Role.ADMIN])
    known(client, ingest, ERASED, "e")
    known(client, ingest, CONTROL, "c")
    assert client.delete(f"/api/people/{ERASED}", headers=admin).status_code == 200
    # Before: the erased person's messages answered `stored: 0, duplicates: 0`, every time.
    assert answers(client, ingest, ERASED, "e", "1") == expected()
    assert answers(client, ingest, CONTROL, "c", "1") == expected()
    # A message stored before the erasure (its event erased with the person) is a replay.
    for tag in ("e", "c"):
        again = {"userId": f"u-{tag}", "event": "Webinar Attended", "messageId": f"{tag}-t0"}
        assert send(client, ingest, "track", again) == REPLAY, tag
    assert not {i for i in stored_ids(app) if i.startswith("e-")}
    assert traces(app, (ERASED, "u-e", "anon-e"), set()) == []


def test_a_do_not_track_persons_messages_are_answered_as_anyone_elses(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    ingest, admin = keys[Role.INGEST], bearer(keys[Role.ADMIN])
    known(client, ingest, OPTED_OUT, "q", do_not_track=True)
    known(client, ingest, CONTROL, "c")
    # Before: the opted-out person's messages answered `stored: 0, duplicates: 0`, every time.
    assert answers(client, ingest, OPTED_OUT, "q", "1") == expected()
    assert answers(client, ingest, CONTROL, "c", "1") == expected()
    # Only the visit from before the opt-out is held.
    assert {i for i in stored_ids(app) if i.startswith("q-")} == {"q-p0"}
    lead = client.get(f"/api/leads/{OPTED_OUT}", headers=admin).json()
    assert lead["title"] == "CTO"  # traits still update


def test_a_dropped_message_replayed_after_tracking_is_back_on_changes_nothing(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    ingest, admin = keys[Role.INGEST], bearer(keys[Role.ADMIN])
    known(client, ingest, OPTED_OUT, "q", do_not_track=True)
    demo = {"userId": "u-q", "event": "Demo Requested", "messageId": "q-demo"}
    assert send(client, ingest, "track", demo) == FIRST
    lifted = {"do_not_track": False}
    assert client.patch(f"/api/leads/{OPTED_OUT}", json=lifted, headers=admin).status_code == 200
    # Acknowledged once already: a replay, as for a stored message (before, stored now).
    assert send(client, ingest, "track", demo) == REPLAY
    assert "q-demo" not in stored_ids(app)
    assert client.get(f"/api/leads/{OPTED_OUT}", headers=admin).json()["stage"] != "sql"


def test_a_dropped_messages_id_is_remembered_without_anything_of_the_person(
    client: TestClient, app: FastAPI, keys: dict[Role, str]
) -> None:
    ingest, admin = keys[Role.INGEST], bearer(keys[Role.ADMIN])
    known(client, ingest, ERASED, "e")
    assert client.delete(f"/api/people/{ERASED}", headers=admin).status_code == 200
    quoting = {"userId": ERASED, "event": "Demo Requested", "messageId": f"signup-{ERASED}"}
    assert send(client, ingest, "track", quoting) == FIRST
    assert send(client, ingest, "track", quoting) == REPLAY
    assert traces(app, (ERASED, "signup-", "u-e", "anon-e"), set()) == []


def test_metrics_count_a_dropped_message_as_its_answer_does(
    client: TestClient, app: FastAPI, keys: dict[Role, str], caplog: pytest.LogCaptureFixture
) -> None:
    """/metrics asks for no sign-in: its counts must not tell what the answer does not. The
    server's log (the operator's) says how many messages were dropped, naming nobody."""
    ingest, admin = keys[Role.INGEST], bearer(keys[Role.ADMIN])
    known(client, ingest, ERASED, "e")
    assert client.delete(f"/api/people/{ERASED}", headers=admin).status_code == 200
    before = counted(client)
    caplog.set_level(logging.INFO, logger="leadflow")
    demo = {"userId": ERASED, "event": "Demo Requested", "messageId": "e-metrics"}
    assert send(client, ingest, "track", demo) == FIRST
    assert send(client, ingest, "track", demo) == REPLAY
    after = counted(client)
    assert (after["stored"] - before["stored"], after["duplicate"] - before["duplicate"]) == (1, 1)
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("leadflow")]
    assert any("dropped for privacy" in line for line in logged), logged
    assert not [line for line in logged if ERASED in line or "e-metrics" in line]
    with app.state.sessions() as session:
        assert session.scalar(select(Lead.id).where(Lead.email == ERASED)) is None


def counted(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    found = dict(re.findall(r'^leadflow_events_total\{outcome="(\w+)"\} (\S+)$', text, re.M))
    return {outcome: float(found.get(outcome, 0)) for outcome in ("stored", "duplicate")}
