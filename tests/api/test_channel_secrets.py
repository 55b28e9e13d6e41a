"""Reps' channel URLs carry tokens and passwords: only admins see them whole."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
SMTP = "mailto://ana:smtp-pa55word@gmail.com"


def test_reps_channels_are_redacted_for_every_role_but_admin(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    admin = bearer(make_key(Role.ADMIN))
    rep = {"email": "ana@flowline.io", "name": "Ana", "team": "smb", "channels": [SLACK, SMTP]}
    created = client.post("/api/reps", json=rep, headers=admin)
    assert created.status_code == 201, created.text
    for role in (Role.SALES, Role.MARKETING):
        answer = client.get("/api/reps", headers=bearer(make_key(role)))
        assert answer.status_code == 200
        assert "TIiajkdnlazkcOXrIdevi7FQ" not in answer.text
        assert "smtp-pa55word" not in answer.text
        assert answer.json()[0]["channels"] == ["slack://***", "mailto://***@gmail.com"]
    assert client.get("/api/reps", headers=admin).json()[0]["channels"] == [SLACK, SMTP]


def test_a_refused_channel_url_is_not_echoed(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    admin = bearer(make_key(Role.ADMIN))
    rep = {"email": "bo@flowline.io", "name": "Bo", "team": "smb",
           "channels": ["nosuchscheme://user:hunter2-pass@host.io/x"]}  # fmt: skip
    answer = client.post("/api/reps", json=rep, headers=admin)
    assert answer.status_code == 422
    assert "hunter2-pass" not in answer.text
    assert "nosuchscheme://***@host.io" in answer.json()["error"]["message"]


def test_apprise_never_logs_a_channel_secret(
    client: TestClient, make_key: Callable[[Role], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(1)  # everything, Apprise's trace level included
    rep = {"email": "cy@flowline.io", "name": "Cy", "team": "smb", "channels": [SLACK, SMTP]}
    assert client.post("/api/reps", json=rep, headers=bearer(make_key(Role.ADMIN))).status_code
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in logged and "smtp-pa55word" not in logged
