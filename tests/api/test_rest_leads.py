"""/api/leads: list, show, create, edit, and sales' stage actions, with roles."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.api.rest.leads import SortKey
from leadflow.core.roles import Role
from leadflow.models.lead import Lead
from leadflow.repositories.lead_lists import SORTS
from leadflow.services.importing import import_leads
from tests.api.conftest import NOW, bearer

VP = {"email": "Vi@Acme-Logistics.com", "first_name": "Vi", "title": "VP Operations"}


@pytest.fixture
def marketing(make_key: Callable[[Role], str]) -> dict[str, str]:
    return bearer(make_key(Role.MARKETING))


@pytest.fixture
def sales(make_key: Callable[[Role], str]) -> dict[str, str]:
    return bearer(make_key(Role.SALES))


def test_create_scores_the_lead_and_show_explains_it(
    client: TestClient, marketing: dict[str, str]
) -> None:
    body = {**VP, "company": "Acme Logistics", "employees": 120, "industry": "Logistics"}
    created = client.post("/api/leads", json=body, headers=marketing)
    assert created.status_code == 201, created.text
    lead = created.json()
    assert created.headers["location"] == f"/api/leads/{lead['id']}"
    assert lead["email"] == "vi@acme-logistics.com"
    assert lead["fit"] > 0 and lead["grade"][0] in "ABCD"
    assert sum(c["points"] for c in lead["contributions"]) == pytest.approx(
        lead["total"], abs=0.011
    )
    shown = client.get("/api/leads/vi@acme-logistics.com", headers=marketing).json()
    for field in (
        "email",
        "stage",
        "fit",
        "engagement",
        "total",
        "grade",
        "persona",
        "contributions",
        "events",
    ):
        assert field in shown
    assert shown["account"]["domain"] == "acme-logistics.com"
    assert (
        client.get(f"/api/leads/{lead['id']}", headers=marketing).json()["email"] == lead["email"]
    )


def test_create_twice_is_a_conflict_and_bad_fields_are_named(
    client: TestClient, marketing: dict[str, str]
) -> None:
    assert client.post("/api/leads", json=VP, headers=marketing).status_code == 201
    again = client.post("/api/leads", json=VP, headers=marketing)
    assert again.status_code == 409 and "PATCH" in again.json()["error"]["message"]
    bad = client.post("/api/leads", json={"email": "not-an-email", "titel": "x"}, headers=marketing)
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["error"]["problems"]}
    assert fields == {"email", "titel"}


def test_patch_changes_fit_at_once(client: TestClient, marketing: dict[str, str]) -> None:
    client.post("/api/leads", json={"email": "wu@initech.io"}, headers=marketing)
    before = client.get("/api/leads/wu@initech.io", headers=marketing).json()
    after = client.patch(
        "/api/leads/wu@initech.io",
        json={"title": "VP Operations", "attributes": {"plan": "pro"}},
        headers=marketing,
    )
    assert after.status_code == 200, after.text
    assert after.json()["title"] == "VP Operations"
    assert after.json()["fit"] > before["fit"]
    assert client.patch("/api/leads/nobody@x.io", json={}, headers=marketing).status_code == 404


def test_names_are_kept_on_one_line(client: TestClient, marketing: dict[str, str]) -> None:
    body = {**VP, "first_name": "Vi\r\nBcc: all@evil.example", "company": "Acme\nLogistics"}
    assert client.post("/api/leads", json=body, headers=marketing).status_code == 201
    edit = {"title": "VP\u2028Operations", "last_name": "Lee\x07"}
    lead = client.patch("/api/leads/vi@acme-logistics.com", json=edit, headers=marketing).json()
    assert (lead["name"], lead["title"]) == ("Vi Bcc: all@evil.example Lee", "VP Operations")
    assert lead["account"]["name"] == "Acme Logistics"


def test_list_filters_sorts_and_pages(client: TestClient, marketing: dict[str, str]) -> None:
    for k, title in enumerate(["VP Operations", "Analyst", "Student", "Operations Manager"]):
        client.post(
            "/api/leads",
            json={"email": f"p{k}@globex.com", "title": title, "owner": "rep-a" if k % 2 else None},
            headers=marketing,
        )
    page = client.get("/api/leads?limit=2", headers=marketing).json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["limit"] == 2
    totals = [lead["total"] for lead in client.get("/api/leads", headers=marketing).json()["items"]]
    assert totals == sorted(totals, reverse=True)
    owned = client.get("/api/leads?owner=rep-a", headers=marketing).json()
    assert owned["total"] == 2 and {lead["owner"] for lead in owned["items"]} == {"rep-a"}
    ascending = [
        lead["total"]
        for lead in client.get("/api/leads?sort=-total", headers=marketing).json()["items"]
    ]
    assert ascending == sorted(ascending)
    bad = client.get("/api/leads?sort=bogus&limit=0", headers=marketing)
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["error"]["problems"]} == {"sort", "limit"}


def test_every_documented_sort_exists() -> None:
    assert set(SortKey.__args__) == set(SORTS)  # type: ignore[attr-defined]


def test_sales_actions_move_the_lead_with_actor_and_reason(
    client: TestClient,
    marketing: dict[str, str],
    sales: dict[str, str],
    make_key: Callable[[Role], str],
) -> None:
    client.post("/api/leads", json=VP, headers=marketing)
    rep = {"email": "ana@acme.test", "name": "Ana", "team": "smb"}
    assert client.post("/api/reps", json=rep, headers=bearer(make_key(Role.ADMIN))).status_code
    # A key is not a person: accepting an unowned lead names the rep who takes it.
    accept = client.post(
        "/api/leads/vi@acme-logistics.com/actions",
        json={"action": "accept", "rep": "ana@acme.test"},
        headers=sales,
    )
    assert accept.status_code == 200, accept.text
    assert accept.json()["stage"] == "sql"
    assert accept.json()["transition"]["actor"] == "ana@acme.test (API key test sales)"
    assert accept.json()["owner"] == "ana@acme.test"
    no_reason = client.post(
        "/api/leads/vi@acme-logistics.com/actions", json={"action": "recycle"}, headers=sales
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]["message"]
    wrong = client.post(
        "/api/leads/vi@acme-logistics.com/actions", json={"action": "close_won"}, headers=sales
    )
    assert wrong.status_code == 409
    recycled = client.post(
        "/api/leads/vi@acme-logistics.com/actions",
        json={"action": "recycle", "reason": "no budget until Q3", "recycle_days": 60},
        headers=sales,
    ).json()
    assert recycled["stage"] == "nurture"
    last = recycled["stage_history"][-1]
    assert (last["to"], last["reason"], last["actor"]) == (
        "nurture",
        "no budget until Q3",
        "test sales",
    )


def test_roles_are_enforced(
    client: TestClient, make_key: Callable[[Role], str], marketing: dict[str, str]
) -> None:
    ingest = bearer(make_key(Role.INGEST))
    assert client.get("/api/leads", headers=ingest).status_code == 403
    assert client.get("/api/leads").status_code == 401
    client.post("/api/leads", json=VP, headers=marketing)
    action = client.post(
        "/api/leads/vi@acme-logistics.com/actions", json={"action": "accept"}, headers=marketing
    )
    assert action.status_code == 403


def test_one_person_is_one_lead_whatever_path_and_spelling(
    client: TestClient, app: FastAPI, marketing: dict[str, str], make_key: Callable[[Role], str]
) -> None:
    # Before: case and blanks were folded, but a punycode domain, a decomposed é, fullwidth
    # letters or the DNS's final dot made another address, so another lead (two scores, two
    # reps calling), and `GET /api/leads/{key}` missed the person written another way.
    ingest = {"Authorization": "Basic " + b64encode(f"{make_key(Role.INGEST)}:".encode()).decode()}
    first = {"userId": "crm-9", "traits": {"email": " José@XN--MLLER-KVA.de. "}}
    assert client.post("/v1/identify", json=first, headers=ingest).status_code == 200
    track = {"userId": "jose\u0301@mu\u0308ller.de", "event": "Webinar Attended"}
    assert client.post("/v1/track", json=track, headers=ingest).status_code == 200
    form = {"events": [{"email": "ｊｏｓé@ｍüｌｌｅｒ.de", "name": "Form Submitted"}]}
    assert client.post("/api/events", json=form, headers=marketing).status_code == 200
    with app.state.sessions() as session, session.begin():
        rows = [{"email": "JOSÉ@müller.de", "first_name": "José"}]
        import_leads(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    again = client.post("/api/leads", json={"email": "josé@müller.de."}, headers=marketing)
    assert again.status_code == 409, again.text
    with app.state.sessions() as session:
        assert session.scalars(select(Lead.email)).all() == ["josé@müller.de"]
    for key in ("josé@xn--mller-kva.de", "JOSE\u0301@MÜLLER.DE", "josé@müller.de."):
        shown = client.get(f"/api/leads/{key}", headers=marketing)
        assert shown.status_code == 200, (key, shown.text)
        assert shown.json()["email"] == "josé@müller.de"
        assert shown.json()["name"].startswith("José")
    # Two people stay two: no provider's rules (Gmail's dots, plus-addressing) are guessed.
    for email in ("a.b@gmail.com", "ab@gmail.com", "ab+news@gmail.com"):
        made = client.post("/api/leads", json={"email": email}, headers=marketing)
        assert made.status_code == 201, made.text
