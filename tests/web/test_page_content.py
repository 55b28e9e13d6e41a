"""What the pages say (no browser): the queue's reasons to call, the playbook's header, the
charts' category order, a recycled lead's re-engage date."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadflow.core.roles import Role
from leadflow.models.audit import AuditEntry
from leadflow.models.outbox import OutboxMessage
from leadflow.models.stage_change import StageChange
from leadflow.services import plan as plan_service
from leadflow.services import reps, webhooks
from leadflow.web import manage
from tests.api.conftest import NOW, bearer
from tests.web.test_security import signed_in


def send(client: TestClient, key: str, events: list[dict[str, object]]) -> None:
    answer = client.post("/api/events", json={"events": events}, headers=bearer(key))
    assert answer.status_code == 200, answer.text


def test_the_queue_says_why_to_call_now(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    with app.state.sessions() as session, session.begin():
        nora = {"email": "nora@flowline.io", "name": "Nora Patel", "team": "inbound",
                "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        reps.add_rep(session, nora, now=NOW)
    email = "kai@unlisted-co.io"
    views = [{"email": email, "type": "page", "properties": {"path": "/pricing", "n": n}}
             for n in range(3)]  # fmt: skip
    send(client, make_key(Role.MARKETING), [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations"}},
        *views, {"email": email, "type": "track", "name": "Demo Requested"},
    ])  # fmt: skip
    signed_in(app, client, "nora@flowline.io", "rep")
    page = client.get("/queue")
    assert page.status_code == 200
    row = page.text[page.text.index(f'data-email="{email}"') :]
    row = row[: row.index("</tr>")]
    why = re.sub(r"\s+", " ", row)
    assert "Demo requested" in why  # what tipped it: the move into SQL and its reason
    assert "This week: Requested a demo, Viewed pricing x3" in why
    assert re.search(r'class="grade">[A-D][1-4]</span> · score \d+', why)
    assert "<details" in why and "Routing" in why  # the routing reason, one click away
    assert "Nora Patel is next" in why


def test_the_playbook_page_names_the_active_version(app: FastAPI, client: TestClient) -> None:
    signed_in(app, client, "mia@flowline.io", "marketing")
    page = client.get("/playbook")
    header = re.sub(r"\s+", " ", page.text[page.text.index('<p class="sub">') :][:300])
    assert "version 1 (Flowline B2B SaaS), by tests." in header


def test_the_charts_list_score_bands_in_order(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    key = make_key(Role.MARKETING)
    titles = ["Intern", "VP Operations", "IT Manager"]
    for n in range(12):  # leads of several scores
        email = f"lead{n}@unlisted-co.io"
        views = [{"email": email, "type": "page", "properties": {"path": "/pricing", "n": k}}
                 for k in range(n % 4)]  # fmt: skip
        send(client, key, [
            {"email": email, "type": "identify", "properties": {"title": titles[n % 3]}},
            *views, *([{"email": email, "type": "track", "name": "Demo Requested"}] * (n % 2)),
        ])  # fmt: skip
    signed_in(app, client, "mia@flowline.io", "marketing")
    page = client.get("/dashboard")
    start = page.text.index('<script id="chart-data" type="application/json">')
    data = json.loads(
        page.text[page.text.index(">", start) + 1 : page.text.index("</script>", start)]
    )
    bands = [int(label) for label in data["bands"]["labels"]]
    assert len(bands) > 2
    assert bands == sorted(bands)
    assert data["funnel"]["labels"] == ["lead", "mql", "sql", "opportunity", "customer"]


def test_the_lead_page_shows_the_reengage_date_and_refuses_a_past_one(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    send(client, make_key(Role.MARKETING), [
        {"email": "mo@unlisted-co.io", "type": "identify", "properties": {"title": "COO"}},
    ])  # fmt: skip
    csrf = signed_in(app, client, "max@flowline.io", "manager")
    form = {"csrf_token": csrf, "action": "recycle", "reason": "no budget",
            "reengage_on": "2020-01-31"}  # fmt: skip
    past = client.post("/leads/mo@unlisted-co.io/act", data=form, follow_redirects=False)
    assert "reengage_on: 2020-01-31 is in the past" in past.text
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    done = client.post("/leads/mo@unlisted-co.io/act", data={**form, "reengage_on": later},
                       follow_redirects=True)  # fmt: skip
    assert done.status_code == 200
    assert f"re-engage on {later}" in done.text


def test_the_lead_timeline_runs_newest_first_with_its_stage_moves_in_place(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    email, now = "kai@unlisted-co.io", datetime.now(UTC)

    def at(hours: int) -> str:
        return (now - timedelta(hours=hours)).isoformat()

    send(client, make_key(Role.ADMIN), [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations"},
         "timestamp": at(5)},
        {"email": email, "type": "track", "name": "Demo Requested", "timestamp": at(3)},
    ])  # fmt: skip
    with app.state.sessions() as session, session.begin():  # moved when it asked, 3 h ago
        session.execute(update(StageChange).values(at=now - timedelta(hours=3)))
    send(client, make_key(Role.ADMIN), [
        {"email": email, "type": "page", "properties": {"path": "/after"}, "timestamp": at(1)}
    ])  # fmt: skip
    signed_in(app, client, "max@flowline.io", "manager")
    page = client.get(f"/leads/{email}").text
    timeline = page[page.index("<h2>Timeline</h2>") :]
    timeline = timeline[: timeline.index("</ul>")]
    times = re.findall(r'<span class="t">([^<]+)</span>', timeline)
    assert len(times) >= 3 and "→ sql" in timeline and "/after" in timeline
    assert times == sorted(times, reverse=True)  # one history, newest first


def test_the_lead_timeline_tells_a_touch_as_leads_show_does(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    """`leads show` tells a touch as `call — questions: SSO? — objections: price (by ...)`;
    the lead page said only "Sales Touch": not how, what the prospect asked, nor who."""
    email = "kai@unlisted-co.io"
    send(client, make_key(Role.MARKETING), [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations"}},
    ])  # fmt: skip
    asked = ["Do you support SSO?", "EU hosting?"]
    touch = {"channel": "meeting", "text": "Walked through the pilot", "questions": asked,
             "objections": ["price"]}  # fmt: skip
    sales = bearer(make_key(Role.SALES))
    assert client.post(f"/api/leads/{email}/touches", json=touch, headers=sales).status_code == 200
    actor = client.get(f"/api/leads/{email}", headers=sales).json()["events"][0]
    signed_in(app, client, "max@flowline.io", "manager")
    page = client.get(f"/leads/{email}").text
    timeline = page[page.index("<h2>Timeline</h2>") :]
    timeline = re.sub(r"<[^>]+>", "", timeline[: timeline.index("</ul>")])
    said = (
        f"Meeting logged by {actor['properties']['actor']} — Walked through the pilot — "
        "questions: Do you support SSO?, EU hosting? — objections: price"
    )
    assert said in re.sub(r"\s+", " ", timeline), timeline


def test_the_dashboards_mql_figure_names_the_month_it_counts(
    app: FastAPI, client: TestClient
) -> None:
    signed_in(app, client, "mia@flowline.io", "marketing")
    month = datetime.now(UTC).strftime("%b %Y")
    for asked, said in (("", f"MQLs in {month}"), ("?period=2026-Q2", "MQLs in 2026-Q2")):
        page = client.get(f"/dashboard{asked}").text
        kpi = re.search(r'<div class="l">([^<]*)</div><div class="n">\d+ · ([\d,]+|\u2013)', page)
        assert kpi is not None and kpi[1] == f"{said} · commitment", kpi


def test_the_lead_timeline_tells_the_teams_notes_from_events_sent_with_the_write_key(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    ingest, email = make_key(Role.INGEST), "olivia@northwind-logistics.com"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{ingest}:".encode()).decode()}
    identify = {"userId": email, "traits": {"email": email}}
    assert client.post("/v1/identify", json=identify, headers=auth).status_code == 200
    marketing = bearer(make_key(Role.MARKETING))
    note = {"text": "Budget opens in Q3"}
    assert client.post(f"/api/leads/{email}/notes", json=note, headers=marketing).is_success
    touch = {"channel": "call", "text": "Asked for a trial"}
    sales = bearer(make_key(Role.ADMIN))
    assert client.post(f"/api/leads/{email}/touches", json=touch, headers=sales).is_success
    # Anybody holding the public write key can name an event as the team's and say who wrote it.
    for name, text in (("Note Added", "Wire the deposit to IBAN XX00"), ("Sales Touch", "Ok")):
        said = {"text": text, "actor": "max@flowline.io", "channel": "call"}
        forged = {"userId": email, "event": name, "properties": said}
        assert client.post("/v1/track", json=forged, headers=auth).status_code == 200
    signed_in(app, client, "max@flowline.io", "manager")
    page = client.get(f"/leads/{email}").text
    timeline = page[page.index("<h2>Timeline</h2>") :]
    timeline = timeline[: timeline.index("</ul>")]
    items = [" ".join(re.sub(r"<[^>]+>", " ", i).split()) for i in timeline.split("<li>")[1:]]
    noted = {i for i in items if "Budget opens in Q3" in i}
    assert len(noted) == 1 and "test marketing" in noted.pop()  # the team's note, by its writer
    logged = [i for i in items if "Asked for a trial" in i]
    assert len(logged) == 1 and "test admin" in logged[0] and "call" in logged[0].lower()
    assert "Wire the deposit" not in page  # a tracked event's text is never quoted as a note
    assert "max@flowline.io" not in " ".join(items)  # nor by the author it names
    forged_items = [i for i in items if "Note Added" in i or "Sales Touch" in i]
    assert len(forged_items) == 2 and all("tracked" in i for i in forged_items), items


def test_the_alerts_page_says_when_each_alert_was_raised(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    with app.state.sessions() as session, session.begin():
        nora = {"email": "nora@flowline.io", "name": "Nora Patel", "team": "inbound",
                "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        reps.add_rep(session, nora, now=NOW)
        webhooks.add_endpoint(session, "http://127.0.0.1:9/hooks", None, now=NOW)
    send(client, make_key(Role.MARKETING), [
        {"email": "kai@unlisted-co.io", "type": "identify", "properties": {"title": "VP Sales"}},
        {"email": "kai@unlisted-co.io", "type": "track", "name": "Demo Requested"},
    ])  # fmt: skip
    with app.state.sessions() as session:
        raised = session.scalars(select(OutboxMessage.created_at)).all()
    assert raised
    signed_in(app, client, "max@flowline.io", "manager")
    page = client.get("/alerts").text
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert "<th>When (UTC)</th>" in head  # before, nothing said when an alert went out
    for at in raised:
        assert f'<td data-label="When (UTC)">{at:%Y-%m-%d %H:%M}</td>' in page, page


def test_the_audit_log_says_when_it_shows_only_the_newest_entries_and_pages_on(
    app: FastAPI, client: TestClient
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    with app.state.sessions() as session, session.begin():
        for n in range(205):
            at = start + timedelta(seconds=n)
            session.add(AuditEntry(at=at, actor="cli", action="lead.recycle",
                                   target=f"lead:{n}", details={}))  # fmt: skip
    signed_in(app, client, "ada@flowline.io", "admin")
    first = client.get("/audit", params={"action": "lead."}).text
    assert "lead:204<" in first and "lead:5<" in first and "lead:4<" not in first
    # Before, the newest 200 were all there was: nothing said older entries exist.
    said = " ".join(re.sub(r"<[^>]+>", " ", first[first.index("</table>") :]).split())
    assert "The newest 200 entries" in said, said
    older = re.search(r'<a href="(/audit\?[^"]*)"[^>]*>Older entries', first)
    assert older is not None
    rest = client.get(older[1].replace("&amp;", "&")).text
    assert "lead:4<" in rest and "lead:0<" in rest and "lead:5<" not in rest
    assert "Older entries" not in rest and 'value="lead."' in rest  # the filter kept
    assert "Newer entries" in rest
    for bad in ("0", "two", "-1"):
        refused = client.get("/audit", params={"page": bad})
        assert refused.status_code == 200 and "page: a whole number from 1" in refused.text


def test_every_time_on_the_queue_the_lead_page_and_the_playbook_says_its_zone(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    with app.state.sessions() as session, session.begin():
        nora = {"email": "nora@flowline.io", "name": "Nora Patel", "team": "inbound",
                "working_hours": "mon-sun 00:00-24:00"}  # fmt: skip
        reps.add_rep(session, nora, now=NOW)
    email = "kai@unlisted-co.io"
    send(client, make_key(Role.MARKETING), [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations"}},
        {"email": email, "type": "track", "name": "Demo Requested"},
    ])  # fmt: skip
    signed_in(app, client, "nora@flowline.io", "rep")
    # Times are UTC; before, the queue's "Demo requested Dec 01 02:42", the lead's timeline
    # and moments and the playbook's versions said so nowhere, and reps work in their zones.
    queue = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/queue").text))
    assert re.search(r"Demo requested [A-Z][a-z]{2} \d\d \d\d:\d\d UTC", queue), queue
    lead = client.get(f"/leads/{email}").text
    for card in ("Timeline", "Moments that mattered"):
        heading = lead[lead.index(f"<h2>{card}</h2>") :]
        said = " ".join(heading[: heading.index("<ul")].split())
        assert said == f'<h2>{card}</h2> <p class="muted fs12">Times in UTC.</p>', said
    playbook = client.get("/playbook").text
    versions = playbook[playbook.index("<h2>Versions</h2>") :]
    assert "<th>When (UTC)</th>" in versions[: versions.index("</thead>")]


def test_the_dashboard_and_the_plan_write_big_figures_with_thousands_separators(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(app, client, "mia@flowline.io", "marketing")
    # A year's commitment is twelve months' (200 a month): before, "0 · 2400" beside "1,500".
    page = client.get("/dashboard?period=2026").text
    kpi = re.search(r'<div class="l">MQLs in 2026 · commitment</div><div class="n">([^<]*)<', page)
    assert kpi is not None and kpi[1] == "0 · 2,400", kpi
    build = plan_service.build

    def measured_on_many(*args: Any, **kwargs: Any) -> Any:
        result = build(*args, **kwargs)
        result["stages"][0] |= {"rate": 0.04, "rate_source": "measured", "rate_n": 37500,
                                "per_rep": 1250}  # fmt: skip
        return result

    monkeypatch.setattr(manage.plan_service, "build", measured_on_many)
    rates = "visit=0.02 lead=0.5 mql=0.4 sql=0.25 opportunity=0.2"  # none measured in a new app
    plan = client.get("/plan", params={"rates": rates}).text
    plan = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", plan))
    assert "1,250 4.0% n=37,500" in plan, plan  # before, "1250 4.0% n=37500"


def test_the_lead_pages_fit_and_engagement_add_up_to_its_total(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str]
) -> None:
    """The card showed fit and engagement rounded to the unit ("80 · 171") beside a total to
    the hundredth (251.43): a decayed engagement's hundredths went missing from the sum."""
    email, now = "kai@unlisted-co.io", datetime.now(UTC)
    views = [{"email": email, "type": "page", "properties": {"path": "/pricing"},
              "timestamp": (now - timedelta(days=days)).isoformat()}
             for days in (3, 11, 17)]  # fmt: skip
    send(client, make_key(Role.ADMIN), [
        {"email": email, "type": "identify", "properties": {"title": "VP Operations"}}, *views,
    ])  # fmt: skip
    signed_in(app, client, "max@flowline.io", "manager")
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/leads/{email}").text))
    shown = re.search(r"Fit · Engagement ([\d.]+) · ([\d.]+)", page)
    total = re.search(r"Total score ([\d.]+)", page)
    assert shown and total, page
    fit, engagement = shown.groups()
    assert "." in engagement and engagement != f"{float(engagement):.0f}"  # hundredths shown
    assert round((float(fit) + float(engagement)) * 100) == round(float(total[1]) * 100)


def test_the_alerts_page_says_when_it_shows_only_the_newest(
    app: FastAPI, client: TestClient
) -> None:
    """It listed the newest 100 deliveries and stopped, without a word that older ones exist."""
    signed_in(app, client, "max@flowline.io", "manager")

    def alert(n: int) -> OutboxMessage:
        at = NOW + timedelta(seconds=n)
        return OutboxMessage(alert_id=f"alert_{n:04d}", event_type="lead.sales_ready",
                             target_kind="webhook", target="1", payload={},
                             next_attempt_at=at, created_at=at)  # fmt: skip

    with app.state.sessions() as session, session.begin():
        session.add_all(alert(n) for n in range(100))
    page = re.sub(r"\s+", " ", client.get("/alerts").text)
    assert "alert_0000" in page and "newest 100" not in page  # all of them: no note
    with app.state.sessions() as session, session.begin():
        session.add(alert(100))
    page = re.sub(r"\s+", " ", client.get("/alerts").text)
    assert "alert_0100" in page and "alert_0000" not in page
    assert "the newest 100 deliveries" in page and "leadflow webhooks log" in page
