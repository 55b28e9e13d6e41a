"""Tracking calls for a known visitor while a merge folds the visitor's lead into another
(several server processes on PostgreSQL): every call is answered 200, and its event is on the
lead kept. Before, the call read the visitor's ids as the duplicate's, waited on the
duplicate's row, and failed on its foreign key once the merge had deleted it: `/api/events`
answered 500 (its request's one transaction is not run again); `/v1` ran its shared
transaction again call by call (`group_commit`), which then read the ids afresh."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.roles import Role
from leadflow.models import Event, Lead
from leadflow.services import merge, playbooks
from tests.api.conftest import NOW, bearer
from tests.api.test_segment import basic
from tests.services.test_claimed_creators import held_while

KEEP, DUPLICATE = "k@company.com", "d@company.com"

PAGE = {"type": "page", "anonymousId": "a-9", "messageId": "p-9"}
# Each endpoint and its body for the visitor's call (message id "p-9").
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "/v1/page": ("/v1/page", PAGE),
    "/v1/track": ("/v1/track", {"userId": "u-9", "event": "Seen", "messageId": "p-9"}),
    "/v1/batch": ("/v1/batch", {"batch": [PAGE]}),
    "/api/events": (
        "/api/events",
        {"events": [{"anonymous_id": "a-9", "message_id": "p-9", "type": "page"}]},
    ),
}


def _merge(session: Session) -> None:
    book = playbooks.active_playbook(session)
    merge.merge_leads(session, book, KEEP, DUPLICATE, actor="ana", now=NOW)


def _known(client: TestClient, key: str) -> None:
    for body in (
        {"userId": "u-1", "messageId": "i-1", "traits": {"email": KEEP}},
        {"userId": "u-9", "anonymousId": "a-9", "messageId": "i-9", "traits": {"email": DUPLICATE}},
    ):
        assert client.post("/v1/identify", json=body, headers=basic(key)).status_code == 200


@pytest.mark.parametrize(("path", "body"), CALLS.values(), ids=CALLS.keys())
def test_a_known_visitors_call_beside_a_merge_is_stored_on_the_lead_kept(
    app: FastAPI,
    client: TestClient,
    make_key: Callable[[Role], str],
    path: str,
    body: dict[str, Any],
) -> None:
    key = make_key(Role.ADMIN)
    _known(client, key)
    auth = basic(key) if path.startswith("/v1") else bearer(key)
    answers: list[int] = []
    raised = held_while(
        app.state.sessions,
        _merge,
        lambda: answers.append(client.post(path, json=body, headers=auth).status_code),
    )
    assert (raised, answers) == ([], [200])
    with app.state.sessions() as session:
        kept = session.scalar(select(Lead.id).where(Lead.email == KEEP))
        owner = session.scalar(select(Event.lead_id).where(Event.message_id == "p-9"))
        assert owner == kept
