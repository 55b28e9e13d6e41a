"""Managers and admins manage the team in the pages: add and edit reps with the API's checks,
channels only by admins, every change audited; and "who would get this lead?"."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.roles import Role
from leadflow.models.audit import AuditEntry
from leadflow.models.rep import Rep
from leadflow.services import reps, users
from tests.api.conftest import bearer

PASSWORD = "correct-horse-battery"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
NEW_REP = {"name": "Ella Enterprise", "email": "ella@flowline.io", "team": "enterprise",
           "working_hours": "mon-sun 00:00-24:00", "timezone": "Europe/Berlin",
           "capacity": "15", "weight": "2", "territories": "DE, AT"}  # fmt: skip


@pytest.fixture
def staff(app: FastAPI) -> None:
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        reps.add_rep(session, {"email": "nora@flowline.io", "name": "Nora Patel",
                               "team": "inbound", "working_hours": "mon-sun 00:00-24:00"},
                     now=now)  # fmt: skip
        for email, role in (("max@flowline.io", "manager"), ("ada@flowline.io", "admin"),
                            ("nora@flowline.io", "rep")):  # fmt: skip
            users.create_user(session, email=email, name=email.split("@")[0], role=role,
                              password=PASSWORD, now=now)  # fmt: skip


def signed_in(client: TestClient, email: str) -> str:
    """Sign the client in; the session's CSRF token, read from a page's form."""
    client.get("/login")
    token = client.cookies.get("lf_login_csrf")
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code in (200, 303), answer.text
    form = client.get("/team/reps/new") if email != "nora@flowline.io" else client.get("/queue")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert found is not None, form.text[:500]
    return found.group(1)


def rep_named(app: FastAPI, email: str) -> Rep | None:
    with app.state.sessions() as session:
        return session.scalar(select(Rep).where(Rep.email == email))


def audit_actions(app: FastAPI) -> set[tuple[str, str]]:
    with app.state.sessions() as session:
        return {(e.actor, e.action) for e in session.scalars(select(AuditEntry))}


def test_a_manager_adds_and_edits_a_rep(app: FastAPI, client: TestClient, staff: None) -> None:
    csrf = signed_in(client, "max@flowline.io")
    added = client.post("/team/reps", data={**NEW_REP, "csrf_token": csrf},
                        follow_redirects=False)  # fmt: skip
    assert added.status_code == 303, added.text
    rep = rep_named(app, "ella@flowline.io")
    assert rep is not None
    assert (rep.team, rep.capacity, rep.weight, rep.territories) == (
        "enterprise",
        15,
        2,
        ["DE", "AT"],
    )
    assert "Ella Enterprise" in client.get("/team").text
    edited = client.post(f"/team/reps/{rep.id}", data={
        "csrf_token": csrf, "capacity": "5", "working_hours": "mon-fri 08:00-16:00",
        "timezone": "Europe/Berlin", "out_of_office_until": "2030-01-02"},
        follow_redirects=False)  # fmt: skip
    assert edited.status_code == 303, edited.text
    changed = rep_named(app, "ella@flowline.io")
    assert changed is not None
    assert (changed.capacity, changed.active) == (5, False)  # the box was left unticked
    # The day starts where the rep works (Berlin), not in UTC; the form shows that day again.
    assert changed.out_of_office_until == datetime(2030, 1, 1, 23, tzinfo=UTC)
    assert 'value="2030-01-02"' in client.get(f"/team/reps/{rep.id}").text
    assert {("max@flowline.io", "rep.add"), ("max@flowline.io", "rep.update")} <= audit_actions(app)


def test_the_rep_form_says_when_no_routing_rule_sends_leads_to_the_team(
    app: FastAPI, client: TestClient, staff: None
) -> None:
    """`leadflow reps add` and `POST /api/reps` (`notes`) say so; the form said only
    "saved", and a typo in the team left the rep without a lead and nobody told."""
    csrf = signed_in(client, "max@flowline.io")
    typo = {**NEW_REP, "team": "enterprsie", "csrf_token": csrf}
    added = client.post("/team/reps", data=typo)
    assert added.status_code == 200 and "saved" in added.text
    said = "no routing rule of the active playbook sends leads to team &#39;enterprsie&#39;"
    assert said in added.text, added.text
    assert "it sends them to enterprise, inbound, smb" in added.text
    rep = rep_named(app, "ella@flowline.io")
    assert rep is not None and rep.team == "enterprsie"  # taken, as the CLI and API take it
    fixed = client.post(f"/team/reps/{rep.id}", data={"csrf_token": csrf, "active": "on",
                                                      "team": "enterprise"})  # fmt: skip
    assert fixed.status_code == 200 and "saved" in fixed.text
    assert "sends leads to team" not in fixed.text
    moved = client.post("/team/reps/1", data={"csrf_token": csrf, "active": "on",
                                              "team": "nowhere"})  # fmt: skip
    assert "no routing rule of the active playbook sends leads to team &#39;nowhere&#39;" in (
        moved.text
    )
    assert "sends leads to team" not in client.get("/team").text  # only after a save


def test_a_manager_moves_a_rep_to_another_team_and_routing_follows(
    app: FastAPI, client: TestClient, staff: None
) -> None:
    csrf = signed_in(client, "max@flowline.io")
    form = client.get("/team/reps/1").text
    assert 'name="team" value="inbound"' in form and 'name="territories"' in form
    moved = client.post("/team/reps/1", data={
        "csrf_token": csrf, "active": "on", "name": "Nora Patel-Berg", "team": "enterprise",
        "territories": "DE, AT"}, follow_redirects=False)  # fmt: skip
    assert moved.status_code == 303, moved.text
    rep = rep_named(app, "nora@flowline.io")
    assert rep is not None
    assert (rep.name, rep.team, rep.territories) == ("Nora Patel-Berg", "enterprise", ["DE", "AT"])
    top = client.get("/team/route", params={"facts": "account.tier: top"})
    assert "Nora Patel-Berg" in top.text and "team enterprise" in top.text
    emptied = {"csrf_token": csrf, "active": "on", "team": " ", "territories": ""}
    blank = client.post("/team/reps/1", data=emptied, follow_redirects=False)
    assert blank.status_code == 303  # a blank team keeps the team; blank territories clear them
    kept = rep_named(app, "nora@flowline.io")
    assert kept is not None and (kept.team, kept.territories) == ("enterprise", [])
    with app.state.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "rep.update")).first()
        assert entry is not None and {"team", "territories"} <= set(entry.details["fields"])


def test_the_team_page_says_who_can_take_a_lead_now(
    app: FastAPI, client: TestClient, staff: None
) -> None:
    now = datetime.now(UTC)
    other_days = ",".join(d for i, d in enumerate(DAYS) if i != now.weekday())
    with app.state.sessions() as session, session.begin():
        back = reps.add_rep(session, {"email": "bo@flowline.io", "name": "Bo Back",
                                      "team": "inbound", "working_hours": "mon-sun 00:00-24:00"},
                            now=now)  # fmt: skip
        back.out_of_office_until = now - timedelta(days=3)  # back from a holiday
        reps.add_rep(session, {"email": "wes@flowline.io", "name": "Wes Weekday",
                               "team": "inbound", "working_hours": f"{other_days} 00:00-24:00"},
                     now=now)  # fmt: skip
        away = reps.add_rep(session, {"email": "al@flowline.io", "name": "Al Away",
                                      "team": "inbound"}, now=now)  # fmt: skip
        away.out_of_office_until = now + timedelta(days=3)
    signed_in(client, "max@flowline.io")
    page = client.get("/team").text
    status = {name: re.search(rf"{name}.*?<td data-status>(.*?)</td>", page, re.S)
              for name in ("Nora Patel", "Bo Back", "Wes Weekday", "Al Away")}  # fmt: skip
    shown = {name: re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else None
             for name, found in status.items()}  # fmt: skip
    assert shown["Nora Patel"] == "taking leads · 0 of 20 today", shown
    assert shown["Bo Back"] == "taking leads · 0 of 20 today", shown  # not "away" any more
    assert shown["Wes Weekday"] == "off hours now", shown
    assert shown["Al Away"] == f"away until {(now + timedelta(days=3)):%Y-%m-%d}", shown


@pytest.mark.parametrize(
    ("change", "message"),
    [({"working_hours": "weekdays"}, "working hours:"),
     ({"email": "not-an-email"}, "email:"),
     ({"timezone": "Mars/Olympus"}, "working hours:"),
     ({"capacity": "0"}, "capacity:"),
     ({"email": "nora@flowline.io"}, "exists")],
)  # fmt: skip
def test_bad_input_is_named_and_nothing_is_saved(
    app: FastAPI, client: TestClient, staff: None, change: dict[str, str], message: str
) -> None:
    csrf = signed_in(client, "max@flowline.io")
    answer = client.post("/team/reps", data={**NEW_REP, **change, "csrf_token": csrf})
    assert answer.status_code == 422
    assert message in answer.text
    assert 'value="Ella Enterprise"' in answer.text  # the form keeps what was typed
    if change.get("email") != "nora@flowline.io":
        assert rep_named(app, change.get("email", NEW_REP["email"])) is None


def test_only_admins_set_channels_and_they_are_checked(
    app: FastAPI, client: TestClient, staff: None
) -> None:
    csrf = signed_in(client, "max@flowline.io")
    client.post("/team/reps", data={**NEW_REP, "channels": "json://localhost", "csrf_token": csrf})
    rep = rep_named(app, "ella@flowline.io")
    assert rep is not None and rep.channels == []  # a manager's form carries no channels
    client.post("/logout", data={"csrf_token": csrf})
    admin = signed_in(client, "ada@flowline.io")
    bad = client.post(f"/team/reps/{rep.id}", data={"csrf_token": admin, "active": "on",
                                                     "channels": "nonsense://x"})  # fmt: skip
    assert bad.status_code == 422 and "not an Apprise URL" in bad.text
    fields = {"csrf_token": admin, "active": "on", "channels": "json://localhost:9/alerts"}
    good = client.post(f"/team/reps/{rep.id}", data=fields, follow_redirects=False)
    assert good.status_code == 303
    saved = rep_named(app, "ella@flowline.io")
    assert saved is not None and saved.channels == ["json://localhost:9/alerts"]


def test_a_rep_may_not_manage_the_team(client: TestClient, staff: None) -> None:
    csrf = signed_in(client, "nora@flowline.io")
    assert client.get("/team/reps/new").status_code == 403
    assert client.post("/team/reps", data={**NEW_REP, "csrf_token": csrf}).status_code == 403
    assert client.get("/team/route", params={"facts": "country: DE"}).status_code == 403


def test_without_the_form_token_nothing_is_added(
    app: FastAPI, client: TestClient, staff: None
) -> None:
    signed_in(client, "max@flowline.io")
    assert client.post("/team/reps", data=NEW_REP).status_code == 403
    assert rep_named(app, "ella@flowline.io") is None


def test_who_would_get_a_lead_or_made_up_facts(
    app: FastAPI, client: TestClient, staff: None, make_key: Callable[[Role], str]
) -> None:
    csrf = signed_in(client, "max@flowline.io")
    client.post("/team/reps", data={**NEW_REP, "csrf_token": csrf})
    made_up = client.get("/team/route", params={"facts": "account.tier: top\ncountry: NO"})
    assert made_up.status_code == 200
    assert "Ella Enterprise" in made_up.text and "rule named_accounts" in made_up.text
    assert "NO" in made_up.text  # a country, not YAML's false
    event = {"email": "ana@fabrikam.io", "type": "identify", "properties": {"title": "CEO"}}
    key = make_key(Role.ADMIN)
    assert (
        client.post("/api/events", json={"events": [event]}, headers=bearer(key)).status_code == 200
    )
    for_lead = client.get("/team/route", params={"lead": "ana@fabrikam.io"})
    assert "Ella Enterprise" in for_lead.text and "account.tier" in for_lead.text
    nobody = client.get("/team/route", params={"facts": "country: US"})
    assert "Nora Patel" in nobody.text and "no rule matched" in nobody.text
    bad = client.get("/team/route", params={"facts": "just words"})
    assert bad.status_code == 422 and "line 1" in bad.text
    missing = client.get("/team/route", params={"lead": "nobody@nowhere.io"})
    assert missing.status_code == 422 and "nobody@nowhere.io" in missing.text
