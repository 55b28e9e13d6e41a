"""Single sign-on (OpenID Connect, code flow with PKCE) against a real provider in the tests:
a browser signs in end to end; every way the provider's answer can be wrong is refused."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select

from leadflow.models.audit import AuditEntry
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.models.user import User
from leadflow.services import playbooks, users
from leadflow.settings import Settings
from tests.api.conftest import EXAMPLES, NOW
from tests.conftest import Migrate
from tests.live_server import serving
from tests.oidc_provider import Provider, running_provider

PASSWORD = "correct horse battery"


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_app(database_url: str, provider: Provider, migrate: Migrate) -> Iterator[FastAPI]:
    """leadflow with single sign-on configured, one rep and one deactivated user."""
    from leadflow.api.app import create_app

    migrate(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session, session.begin():
        playbooks.apply(session, (EXAMPLES / "b2b_saas.yaml").read_text(), author="t", now=NOW)
        users.create_user(session, email="rita@acme.test", name="Rita Rep", role="rep",
                          password=PASSWORD, now=NOW)  # fmt: skip
        gone = users.create_user(session, email="gone@acme.test", name="Gone", role="rep",
                                 password=PASSWORD, now=NOW)  # fmt: skip
        gone.active = False
    engine.dispose()
    settings = Settings(
        database_url=database_url,
        oidc_issuer=provider.issuer,
        oidc_client_id=provider.client_id,
        oidc_client_secret=provider.client_secret,
        oidc_name="Test IdP",
        oidc_role_claim="groups",
        oidc_roles={"sales-managers": "manager", "sales": "rep"},
    )
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def sso_url(sso_app: FastAPI) -> Iterator[str]:
    # Stops in a second with a signed-in page's event stream still open (it used to wait out
    # the ten seconds allowed to the server's thread).
    with serving(sso_app) as url:
        yield url


def person(email: str, verified: bool = True, **more: object) -> dict[str, object]:
    return {"email": email, "email_verified": verified, "name": email.split("@")[0], **more}


def sign_in(base: str) -> httpx.Response:
    """The whole flow as a browser does it (following every redirect, keeping cookies);
    the answer of leadflow's callback."""
    with httpx.Client(follow_redirects=False, timeout=20) as client:
        start = client.get(f"{base}/login/sso", params={"next": "/plan"})
        assert start.status_code == 303
        page = client.get(start.headers["location"])
        assert page.status_code == 200, page.text
        code = re.search(r"name=code value=([\w-]+)", page.text)
        assert code is not None
        issuer = start.headers["location"].split("/authorize")[0]
        back = client.post(f"{issuer}/approve", data={"code": code.group(1)})
        callback = client.get(back.headers["location"])
        if callback.status_code == 303:
            # Signed in: the session cookie opens the page asked for.
            assert client.get(f"{base}{callback.headers['location']}").status_code == 200
        return callback


def stored_user(database_url: str, email: str) -> User | None:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(User).where(User.email == email))
    finally:
        engine.dispose()


def test_a_person_signs_in_through_the_provider_in_a_browser(
    page: Page, sso_url: str, provider: Provider
) -> None:
    provider.person = person("Rita@Acme.test")
    page.goto(f"{sso_url}/login?next=/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_role("button", name="Continue as Rita@Acme.test").click()
    page.wait_for_url(f"{sso_url}/queue")  # a rep's home
    expect(page.locator("body")).to_contain_text("Rita Rep · rep")
    assert provider.token_requests == 1


def test_the_role_claim_creates_or_changes_the_user(
    sso_url: str, provider: Provider, database_url: str
) -> None:
    provider.person = person("new@acme.test", groups=["staff", "sales-managers"])
    answer = sign_in(sso_url)
    assert answer.status_code == 303 and answer.headers["location"] == "/plan"
    created = stored_user(database_url, "new@acme.test")
    assert created is not None and created.role == "manager"
    provider.person = person("rita@acme.test", groups="sales-managers")
    assert sign_in(sso_url).status_code == 303
    changed = stored_user(database_url, "rita@acme.test")
    assert changed is not None and changed.role == "manager"
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        actions = {(e.action, e.target) for e in session.scalars(select(AuditEntry))}
    engine.dispose()
    assert {("user.created", "new@acme.test"), ("user.role_changed", "rita@acme.test")} <= actions


def test_a_role_the_provider_gave_ends_when_it_takes_every_group_away(
    sso_url: str, provider: Provider, database_url: str
) -> None:
    # Before: someone made a manager by their group who then left every mapped group at the
    # identity provider kept signing in as a manager (an admin removed at the provider stayed
    # an admin here). A role the provider gave is the provider's to take away; a role given
    # in leadflow (Rita, a rep made with a password) stays when the claim maps to nothing.
    provider.person = person("max@acme.test", groups=["sales-managers"])
    assert sign_in(sso_url).status_code == 303
    provider.person = person("max@acme.test", groups=["staff"])
    refused = sign_in(sso_url)
    assert refused.status_code == 401
    assert "no longer in a group" in refused.text
    kept = stored_user(database_url, "max@acme.test")
    assert kept is not None and kept.role == "manager"  # as it was: signing in is refused
    provider.person = person("rita@acme.test", groups=["staff"])
    assert sign_in(sso_url).status_code == 303


def test_a_user_made_by_sign_on_has_no_password(sso_url: str, provider: Provider) -> None:
    provider.person = person("new@acme.test", groups="sales")
    assert sign_in(sso_url).status_code == 303
    with httpx.Client(base_url=sso_url) as client:
        form = client.get("/login")
        token = client.cookies.get("lf_login_csrf")
        refused = client.post("/login", data={"email": "new@acme.test", "password": "sso",
                                              "csrf_token": token or ""})  # fmt: skip
    assert form.status_code == 200 and refused.status_code == 401


@pytest.mark.parametrize(
    ("who", "misbehave", "message"),
    [
        (person("stranger@acme.test"), None, "has no leadflow account"),
        (person("gone@acme.test"), None, "is deactivated"),
        (person("rita@acme.test", verified=False), None, "has not verified"),
        ({"name": "No Mail"}, None, "sent no e-mail address"),
        (person("rita@acme.test"), "audience", "ID token failed its checks"),
        (person("rita@acme.test"), "nonce", "ID token failed its checks"),
        (person("rita@acme.test"), "expired", "ID token failed its checks"),
        (person("rita@acme.test"), "signature", "ID token failed its checks"),
        (person("rita@acme.test"), "no_id_token", "sent no ID token"),
    ],
)
def test_wrong_answers_are_refused_with_the_reason(
    sso_url: str, provider: Provider, who: dict[str, object], misbehave: str | None, message: str
) -> None:
    provider.person, provider.misbehave = who, misbehave
    answer = sign_in(sso_url)
    assert answer.status_code == 401
    assert message in answer.text
    assert "lf_session" not in answer.headers.get("set-cookie", "")


def test_a_callback_without_its_own_start_is_refused(sso_url: str, provider: Provider) -> None:
    provider.person = person("rita@acme.test")
    with httpx.Client(follow_redirects=False) as victim:
        # An attacker's own code and state, replayed into someone else's browser (login CSRF).
        attacker = sign_in_start(sso_url)
        answer = victim.get(f"{sso_url}/login/sso/callback", params=attacker)
    assert answer.status_code == 401
    assert "expired or began elsewhere" in answer.text


def sign_in_start(base: str) -> dict[str, str]:
    """A code and state obtained by someone else's browser, not redeemed."""
    with httpx.Client(follow_redirects=False) as client:
        start = client.get(f"{base}/login/sso")
        page = client.get(start.headers["location"])
        code = re.search(r"name=code value=([\w-]+)", page.text)
        assert code is not None
        issuer = start.headers["location"].split("/authorize")[0]
        back = client.post(f"{issuer}/approve", data={"code": code.group(1)})
        query = httpx.URL(back.headers["location"]).params
        return {"code": query["code"], "state": query["state"]}


def test_a_provider_that_is_down_is_a_clear_page(database_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from leadflow.api.app import create_app

    upgrade(database_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings = Settings(database_url=database_url, oidc_issuer=f"http://127.0.0.1:{closed}",
                        oidc_client_id="x", oidc_client_secret="y")  # fmt: skip
    application = create_app(settings)
    with TestClient(application, follow_redirects=False) as client:
        answer = client.get("/login/sso")
    application.state.engine.dispose()
    assert answer.status_code == 502
    assert "did not answer" in answer.text
    assert "Sign in with single sign-on" in answer.text


def test_a_role_map_naming_no_role_stops_the_settings() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'sales' maps to 'seller', not one of"):
        Settings(oidc_roles={"sales": "seller"})
