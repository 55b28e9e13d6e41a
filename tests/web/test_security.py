"""The pages under attack: stored script from the write key, forged tokens, headers, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from leadflow.services import users
from leadflow.web.auth import COOKIE

SCRIPT = "</script><script>alert(1)</script>"
PASSWORD = "correct-horse-battery"


def signed_in(app: FastAPI, client: TestClient, email: str, role: str) -> str:
    """Sign `email` in on `client` (creating the user); the session's CSRF token."""
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        user = users.create_user(session, email=email, name=email.split("@")[0], role=role,
                                 password=PASSWORD, now=now)  # fmt: skip
        token = users.start_session(session, user, now)
        found = users.session_for(session, token, now)
        assert found is not None
        csrf = found[1].csrf_token
    client.cookies.set(COOKIE, token)
    return csrf


def write_key_identify(client: TestClient, key: str, campaign: dict[str, str]) -> None:
    """What anybody holding the public write key can send."""
    message = {"userId": "u-1", "traits": {"email": "eve@unlisted-co.io"},
               "context": {"campaign": campaign}}  # fmt: skip
    answer = client.post("/v1/identify", json=message, auth=(key, ""))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("field", ["source", "name"])
def test_a_campaign_from_the_write_key_cannot_script_the_dashboard(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], field: str
) -> None:
    write_key_identify(client, make_key(Role.INGEST), {field: SCRIPT, "medium": "cpc"})
    signed_in(app, client, "ana@flowline.io", "admin")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert SCRIPT not in page.text  # the chart data ends no script element
    assert "<script>alert(1)" not in page.text
    assert "\\u003c/script\\u003e" in page.text  # there, as JSON-escaped text


def test_a_non_ascii_csrf_token_is_refused_not_a_500(app: FastAPI, client: TestClient) -> None:
    signed_in(app, client, "ana@flowline.io", "admin")
    forged = client.post("/logout", data={"csrf_token": "jeton-\u00e9\u00e8"})
    assert forged.status_code == 403 and "Form expired" in forged.text
    by_header = client.post("/logout", headers={"X-CSRF-Token": "\u00e9".encode("latin-1")})
    assert by_header.status_code == 403 and "Form expired" in by_header.text
    client.cookies.clear()
    client.get("/login")  # the sign-in form's own CSRF cookie
    login = client.post("/login", data={"email": "ana@flowline.io", "password": PASSWORD,
                                        "csrf_token": "\u00fc"})  # fmt: skip
    assert login.status_code == 401 and "expired" in login.text


def noted_lead(client: TestClient, key: str, owner: str) -> int:
    """A lead owned by `owner` with a private note on it; its id."""
    made = client.post("/api/leads", json={"email": "kai@unlisted-co.io", "owner": owner},
                       headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert made.status_code == 201, made.text
    lead_id = int(made.json()["id"])
    note = client.post(f"/api/leads/{lead_id}/notes", json={"text": "budget is 80k, keep quiet"},
                       headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert note.status_code == 201, note.text
    return lead_id


def test_a_rep_cannot_read_another_reps_lead(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    lead_id = noted_lead(client, make_key(Role.SALES), "nora@flowline.io")
    signed_in(app, client, "ola@flowline.io", "rep")
    refused = client.get(f"/leads/{lead_id}")
    assert refused.status_code == 403 and "belongs to nora@flowline.io" in refused.text
    assert "keep quiet" not in refused.text
    client.cookies.clear()
    signed_in(app, client, "nora@flowline.io", "rep")
    assert "keep quiet" in client.get(f"/leads/{lead_id}").text  # her own lead
    client.cookies.clear()
    signed_in(app, client, "max@flowline.io", "manager")
    assert "keep quiet" in client.get(f"/leads/{lead_id}").text  # a manager sees every lead


def test_a_sales_key_reads_and_works_any_lead(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    key = make_key(Role.SALES)
    lead_id = noted_lead(client, key, "nora@flowline.io")
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/leads/{lead_id}", headers=auth).status_code == 200
    touch = client.post(f"/api/leads/{lead_id}/touches", json={"channel": "call"}, headers=auth)
    assert touch.status_code == 200, touch.text
    listed = client.get("/api/leads", params={"owner": "nora@flowline.io"}, headers=auth).json()
    assert [item["id"] for item in listed["items"]] == [lead_id]


def test_someone_elses_session_token_is_no_sign_in_link(app: FastAPI, client: TestClient) -> None:
    signed_in(app, client, "eve@flowline.io", "admin")  # the attacker's own session
    attackers = client.cookies[COOKIE]
    client.cookies.clear()  # the victim's browser
    link = client.get(f"/welcome?token={attackers}", follow_redirects=False)
    assert link.status_code == 303 and link.headers["location"] == "/login"
    assert COOKIE not in link.cookies  # the victim is not signed in as Eve


def test_a_sign_in_link_asks_before_signing_in(app: FastAPI, client: TestClient) -> None:
    with app.state.sessions() as session, session.begin():
        _, token = users.demo_users(session, datetime.now(UTC))
    shown = client.get(f"/welcome?token={token}", follow_redirects=False)
    assert shown.status_code == 200 and COOKIE not in shown.cookies  # nothing silent
    assert "maya@flowline.example" in shown.text and "Maya Lindqvist" in shown.text
    forged = client.post("/welcome", data={"token": token, "csrf_token": "guess"},
                         follow_redirects=False)  # fmt: skip
    assert forged.status_code == 403 and COOKIE not in forged.cookies
    csrf = client.cookies["lf_login_csrf"]
    confirmed = client.post("/welcome", data={"token": token, "csrf_token": csrf},
                            follow_redirects=False)  # fmt: skip
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/"
    assert COOKIE in confirmed.cookies
    assert client.get("/dashboard").status_code == 200  # signed in as Maya


def test_a_sign_in_link_is_no_session_cookie(app: FastAPI, client: TestClient) -> None:
    with app.state.sessions() as session, session.begin():
        _, token = users.demo_users(session, datetime.now(UTC))
    for cookie in (f"sign-in-link:{token}", token):  # the link's stored form, and as given
        client.cookies.set(COOKIE, cookie)
        page = client.get("/queue", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert "csrf" not in page.text.lower()  # nobody's CSRF token either
    client.cookies.clear()
    shown = client.get(f"/welcome?token={token}", follow_redirects=False)
    assert shown.status_code == 200  # not used up: it still opens through its confirmation
    csrf = client.cookies["lf_login_csrf"]
    confirmed = client.post("/welcome", data={"token": token, "csrf_token": csrf},
                            follow_redirects=False)  # fmt: skip
    assert confirmed.status_code == 303 and COOKIE in confirmed.cookies


def test_every_answer_carries_the_security_headers(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    auth = {"Authorization": f"Bearer {make_key(Role.ADMIN)}"}
    for answer in (
        client.get("/login"),
        client.get("/healthz"),
        client.get("/api/leads", headers=auth),
    ):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe" not in policy
        assert "frame-ancestors 'none'" in policy


def test_only_the_api_docs_themselves_go_without_the_policy(client: TestClient) -> None:
    # Before: every path starting with /docs or /redoc went without it (/docs-old, /redocx:
    # this app's HTML error pages), not only FastAPI's two documentation pages.
    for path in ("/docs-old", "/docsx", "/redoc/anything", "/docs/oauth2-redirectx"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "default-src 'self'" in answer.headers["content-security-policy"], path
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):  # a CDN's script, inline script
        answer = client.get(path)
        assert answer.status_code == 200 and "content-security-policy" not in answer.headers
        assert answer.headers["x-frame-options"] == "DENY"


def test_pages_answer_errors_as_pages_and_the_apis_as_json(
    app: FastAPI, client: TestClient
) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/boom", boom)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Page not found" in missing.text
    broken = client.get("/boom")
    assert broken.status_code == 500 and broken.headers["content-type"].startswith("text/html")
    assert "a bug" not in broken.text and "Something went wrong" in broken.text
    assert client.get("/api/boom").json()["error"]["status"] == 500
    assert client.get("/api/nothing").json()["error"]["status"] == 404
    assert client.get("/v1/nothing").json()["error"]["status"] == 404
    csrf = signed_in(app, client, "ana@flowline.io", "admin")
    unknown = client.post("/leads/999999/act", data={"csrf_token": csrf, "action": "touch"})
    assert unknown.status_code == 404 and "No lead with id" in unknown.text
    assert unknown.headers["content-type"].startswith("text/html")


def test_a_busy_database_is_a_503_page(app: FastAPI, client: TestClient) -> None:
    import sqlite3

    if app.state.engine.dialect.name != "sqlite":
        pytest.skip("a writer holding the whole database is SQLite's busy case")
    csrf = signed_in(app, client, "ana@flowline.io", "admin")
    holder = sqlite3.connect(app.state.engine.url.database)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database past the busy timeout
    try:
        busy = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    finally:
        holder.rollback()
        holder.close()
    assert busy.status_code == 503 and busy.headers["content-type"].startswith("text/html")
    assert busy.headers["retry-after"] == "1" and "Try again" in busy.text


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "/\\/evil.example",
                                    "https://evil.example", "/%0a/evil.example"])  # fmt: skip
def test_signing_in_never_sends_the_browser_to_another_site(
    app: FastAPI, client: TestClient, target: str
) -> None:
    signed_in(app, client, "ana@flowline.io", "admin")
    client.cookies.delete(COOKIE)
    client.get("/login")
    form = {"email": "ana@flowline.io", "password": PASSWORD, "next": target,
            "csrf_token": client.cookies["lf_login_csrf"]}  # fmt: skip
    answer = client.post("/login", data=form, follow_redirects=False)
    location = answer.headers["location"]  # a path of this site ("\\" arrives as %5C)
    assert answer.status_code == 303 and location.startswith("/")
    assert not location.startswith("//") and "\\" not in location and ":" not in location


def test_signing_in_returns_to_the_page_asked_for_with_its_query(
    app: FastAPI, client: TestClient
) -> None:
    # Before: only the path was kept, so a link to one lead's routing (/team/route?lead=7)
    # opened the page without its lead after signing in.
    signed_in(app, client, "ana@flowline.io", "admin")
    client.cookies.delete(COOKIE)
    asked = client.get("/team/route?lead=7&x=a%26b", follow_redirects=False)
    assert asked.status_code == 303
    login = client.get(asked.headers["location"])
    assert login.status_code == 200
    form = {"email": "ana@flowline.io", "password": PASSWORD,
            "next": "/team/route?lead=7&x=a%26b",
            "csrf_token": client.cookies["lf_login_csrf"]}  # fmt: skip
    assert 'value="/team/route?lead=7&amp;x=a%26b"' in login.text
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.headers["location"] == "/team/route?lead=7&x=a%26b"


def test_a_form_too_large_is_refused_before_it_is_read_whole(
    app: FastAPI, client: TestClient
) -> None:
    # Before: the sign-in form, which anybody can post to, read a body of up to 1,000 fields
    # of 1 MB each into memory (only /api and /v1 had a limit of the whole body).
    huge = {f"field{k}": "x" * 900_000 for k in range(3)}
    refused = client.post("/login", data={**huge, "email": "a@b.io", "password": "p"})
    assert refused.status_code == 413
    assert "over the 1 MB limit" in refused.text and "<html" in refused.text.lower()
    csrf = signed_in(app, client, "ana@flowline.io", "admin")
    refused = client.post("/team/reps", data={**huge, "csrf_token": csrf})
    assert refused.status_code == 413


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/leads/" + "1" * 5000, 404),
        ("POST", "/leads/" + "1" * 5000 + "/act", 404),
        ("GET", "/team/route?lead=" + "1" * 5000, 422),
        ("POST", "/notifications/99999999999999999999999/read", 404),
    ],
)
def test_ids_no_row_can_have_are_a_page_saying_so_not_a_500(
    app: FastAPI, client: TestClient, method: str, path: str, status: int
) -> None:
    csrf = signed_in(app, client, "ana@flowline.io", "admin")
    form = {"csrf_token": csrf, "action": "touch"} if method == "POST" else None
    answer = client.request(method, path, data=form)
    assert answer.status_code == status, answer.text[:300]
    assert "Something went wrong" not in answer.text


SPOOF = "Your session expired: call the help desk on +1 555 0100 to sign in again"


@pytest.mark.parametrize(
    ("path", "role"),
    [("/leads/{lead}?error={text}", "admin"), ("/playbook?applied={text}", "marketing"),
     ("/alerts?replayed={text}", "manager")],
)  # fmt: skip
def test_a_link_cannot_put_its_own_words_on_a_page(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], path: str, role: str
) -> None:
    # Before: the lead page took its error message from the query (`?error=`), and the
    # playbook and alerts pages their notes ("version ... applied", "... queued again"), so a
    # link anybody could send showed a message of theirs, as the app's own, to whoever opened
    # it signed in.
    lead_id = noted_lead(client, make_key(Role.SALES), "nora@flowline.io")
    signed_in(app, client, "ana@flowline.io", role)
    shown = client.get(path.format(lead=lead_id, text=SPOOF.replace(" ", "+")))
    assert shown.status_code == 200, shown.text
    assert "help desk" not in shown.text
