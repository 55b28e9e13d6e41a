"""Deactivating a user or resetting a password ends their sessions; sign-in is throttled per
account and per client address, with a message saying when to try again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadflow.cli.main import app as cli
from leadflow.core.roles import Role
from leadflow.services import users
from tests.api.conftest import bearer

PASSWORD = "correct-horse-battery"


@pytest.fixture
def people(app: FastAPI) -> None:
    with app.state.sessions() as session, session.begin():
        for email in ("nora@flowline.io", "max@flowline.io", "mia@flowline.io"):
            users.create_user(session, email=email, name=email, role="manager",
                              password=PASSWORD, now=datetime.now(UTC))  # fmt: skip


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    client.get("/login")
    form = {"email": email, "password": password, "csrf_token": client.cookies["lf_login_csrf"]}
    return client.post("/login", data=form, follow_redirects=False).status_code


def leadflow(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", database_url, "users", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_deactivating_a_user_signs_them_out_everywhere(
    client: TestClient, database_url: str, people: None
) -> None:
    assert sign_in(client, "nora@flowline.io") == 303
    assert client.get("/queue").status_code == 200
    assert "1 session ended" in leadflow(database_url, "deactivate", "nora@flowline.io")
    assert client.get("/queue", follow_redirects=False).headers["location"].startswith("/login")
    assert sign_in(client, "nora@flowline.io") == 401
    listed = leadflow(database_url, "list")
    assert "nora@flowline.io" in listed and " no " in listed
    leadflow(database_url, "activate", "nora@flowline.io")
    assert sign_in(client, "nora@flowline.io") == 303


def test_resetting_a_password_ends_sessions_and_the_old_password(
    client: TestClient, database_url: str, people: None
) -> None:
    assert sign_in(client, "max@flowline.io") == 303
    out = leadflow(database_url, "reset-password", "max@flowline.io")
    assert "1 session ended" in out
    fresh = out.strip().splitlines()[-1]
    assert client.get("/queue", follow_redirects=False).status_code == 303
    assert sign_in(client, "max@flowline.io") == 401
    assert sign_in(client, "max@flowline.io", fresh) == 303


def test_five_failures_lock_the_account_and_say_when_to_try_again(
    client: TestClient, people: None
) -> None:
    for _ in range(5):
        assert sign_in(client, "nora@flowline.io", "wrong password!") == 401
    client.get("/login")
    form = {"email": "nora@flowline.io", "password": PASSWORD,
            "csrf_token": client.cookies["lf_login_csrf"]}  # fmt: skip
    locked = client.post("/login", data=form, follow_redirects=False)
    assert locked.status_code == 429  # even the right password waits
    assert "Too many failed sign-ins for this account" in locked.text
    assert "Try again in 15 minutes" in locked.text
    assert 800 < int(locked.headers["retry-after"]) <= 900
    assert sign_in(client, "max@flowline.io") == 303  # other accounts are not locked


def test_a_success_forgets_the_accounts_failures(client: TestClient, people: None) -> None:
    for _ in range(4):
        assert sign_in(client, "mia@flowline.io", "wrong password!") == 401
    assert sign_in(client, "mia@flowline.io") == 303
    for _ in range(4):
        assert sign_in(client, "mia@flowline.io", "wrong password!") == 401
    assert sign_in(client, "mia@flowline.io") == 303


def test_twenty_failures_from_one_address_lock_it(client: TestClient, people: None) -> None:
    for n in range(20):
        assert sign_in(client, f"guess{n}@flowline.io", "wrong password!") == 401
    client.get("/login")
    form = {"email": "max@flowline.io", "password": PASSWORD,
            "csrf_token": client.cookies["lf_login_csrf"]}  # fmt: skip
    locked = client.post("/login", data=form, follow_redirects=False)
    assert locked.status_code == 429
    assert "from this address" in locked.text


def test_admins_manage_users_through_the_api(
    client: TestClient, make_key: Callable[[Role], str], people: None
) -> None:
    admin, sales = bearer(make_key(Role.ADMIN)), bearer(make_key(Role.SALES))
    assert client.get("/api/users", headers=sales).status_code == 403
    assert sign_in(client, "nora@flowline.io") == 303
    listed = {u["email"]: u for u in client.get("/api/users", headers=admin).json()}
    assert listed["nora@flowline.io"]["sessions"] == 1 and "password_hash" not in str(listed)
    done = client.post("/api/users/nora@flowline.io/deactivate", headers=admin).json()
    assert done == {"email": "nora@flowline.io", "active": False, "sessions_ended": 1}
    assert client.get("/queue", follow_redirects=False).status_code == 303
    reset = client.post("/api/users/max@flowline.io/reset-password", headers=admin).json()
    assert sign_in(client, "max@flowline.io", reset["password"]) == 303
    short = client.post(
        "/api/users/max@flowline.io/reset-password", json={"password": "short"}, headers=admin
    )
    assert short.status_code == 422
    assert client.post("/api/users/nobody@x.io/deactivate", headers=admin).status_code == 404


def test_user_changes_are_in_the_audit_log_without_passwords(
    client: TestClient, database_url: str, make_key: Callable[[Role], str], people: None
) -> None:
    admin = bearer(make_key(Role.ADMIN))
    leadflow(database_url, "deactivate", "nora@flowline.io")
    leadflow(database_url, "activate", "nora@flowline.io")
    out = leadflow(database_url, "reset-password", "mia@flowline.io")
    client.post("/api/users/max@flowline.io/reset-password", headers=admin)
    entries = client.get("/api/audit", params={"action": "user."}, headers=admin).json()
    rows = entries["entries"] if isinstance(entries, dict) else entries
    actions = [e["action"] for e in rows]
    assert {"user.deactivate", "user.activate", "user.reset_password"} <= set(actions)
    assert actions.count("user.reset_password") == 2
    assert out.strip().splitlines()[-1] not in str(rows)  # the new password is never logged
