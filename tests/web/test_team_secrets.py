"""The team page shows where each rep is alerted, never the channel's token or password."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.services import reps, users

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
SMTP = "mailto://ana:smtp-pa55word@gmail.com"
PASSWORD = "correct-horse-battery"


def sign_in(client: TestClient, email: str) -> None:
    client.get("/login")
    form = {"email": email, "password": PASSWORD, "csrf_token": client.cookies["lf_login_csrf"]}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def test_the_team_page_redacts_channels_except_for_admins(app: FastAPI, client: TestClient) -> None:
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        reps.add_rep(session, {"email": "ana@flowline.io", "name": "Ana", "team": "smb",
                               "channels": [SLACK, SMTP]}, now=now)  # fmt: skip
        for email, role in (("max@flowline.io", "manager"), ("root@flowline.io", "admin")):
            users.create_user(session, email=email, name=email, role=role, password=PASSWORD,
                              now=now)  # fmt: skip
    sign_in(client, "max@flowline.io")
    shown = client.get("/team")
    assert shown.status_code == 200
    assert "slack://***" in shown.text and "mailto://***@gmail.com" in shown.text
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in shown.text and "smtp-pa55word" not in shown.text
    client.cookies.clear()
    sign_in(client, "root@flowline.io")
    assert "TIiajkdnlazkcOXrIdevi7FQ" in client.get("/team").text
