"""/api/reports and /api/plan: the same figures as the command line, and clear refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer

RATES = [("rate", "visit=0.02"), ("rate", "lead=0.5"), ("rate", "mql=0.4"),
         ("rate", "sql=0.25"), ("rate", "opportunity=0.2")]  # fmt: skip


def seed(client: TestClient, key: str) -> None:
    events = {"events": [
        {"email": "ann@unlisted-co.io", "type": "track", "name": "Demo Requested"},
        {"email": "bo@unlisted-co.io", "type": "page", "properties": {"path": "/pricing"}},
    ]}  # fmt: skip
    assert client.post("/api/events", json=events, headers=bearer(key)).status_code == 200


def test_reports_as_json_and_csv(client: TestClient, make_key: Callable[[Role], str]) -> None:
    marketing = make_key(Role.MARKETING)
    seed(client, marketing)
    names = client.get("/api/reports", headers=bearer(marketing)).json()
    assert {"funnel", "attribution", "calibration", "data_quality"} <= set(names)
    funnel = client.get("/api/reports/funnel", headers=bearer(marketing)).json()
    assert [r["reached"] for r in funnel["rows"]][:3] == [2, 1, 1]
    assert "Cohort" in funnel["definition"]
    exported = client.get("/api/reports/conversion?by=source&format=csv", headers=bearer(marketing))
    assert exported.headers["content-type"].startswith("text/csv")
    assert sum(int(r["lead"]) for r in csv.DictReader(io.StringIO(exported.text))) == 2


def test_bad_report_requests_are_named(client: TestClient, make_key: Callable[[Role], str]) -> None:
    sales = bearer(make_key(Role.SALES))
    missing = client.get("/api/reports/funel", headers=sales)
    assert missing.status_code == 404 and "no report 'funel'" in missing.json()["error"]["message"]
    period = client.get("/api/reports/funnel?period=Q4", headers=sales)
    assert period.status_code == 422 and "expected a month" in period.json()["error"]["message"]
    by = client.get("/api/reports/conversion?by=colour", headers=sales)
    assert by.status_code == 422 and "unknown dimension" in by.json()["error"]["message"]
    ingest = client.get("/api/reports/funnel", headers=bearer(make_key(Role.INGEST)))
    assert ingest.status_code == 403


def test_a_cohort_that_ends_before_it_starts_is_refused(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    """since after until counted no lead and said nothing: an empty funnel, revenue 0."""
    sales = bearer(make_key(Role.SALES))
    upside_down = client.get("/api/reports/funnel?since=2026-12-01&until=2026-11-01", headers=sales)
    assert upside_down.status_code == 422, upside_down.text
    message = upside_down.json()["error"]["message"]
    assert message == "since: 2026-12-01 is not before until: 2026-11-01"
    one_day = client.get("/api/reports/funnel?since=2026-11-01&until=2026-11-02", headers=sales)
    assert one_day.status_code == 200


def test_a_cohort_bound_outside_the_report_years_is_a_422_not_a_500(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    """until=9999-12-31 took the month after it (the year 10000) and answered a 500."""
    sales = bearer(make_key(Role.SALES))
    for name, query, message in [
        ("funnel", "until=9999-12-31", "until: year 9999 is outside 1900-9998"),
        ("funnel", "since=9999-12-31", "since: year 9999 is outside 1900-9998"),
        ("bottlenecks", "since=0001-01-01", "since: year 1 is outside 1900-9998"),
    ]:
        response = client.get(f"/api/reports/{name}?{query}", headers=sales)
        assert response.status_code == 422, (query, response.text)
        assert response.json()["error"]["message"] == message


def test_cracks_page_and_count(client: TestClient, make_key: Callable[[Role], str]) -> None:
    """The cracks show a page of the longest-waiting leads and count them all; a page out of
    bounds or not a number is a 422 naming the parameter."""
    sales = bearer(make_key(Role.SALES))
    seed(client, make_key(Role.MARKETING))
    shown = client.get("/api/reports/cracks", headers=sales).json()
    assert (shown["total"], shown["shown"], shown["limit"], shown["offset"]) == (1, 1, 100, 0)
    assert shown["by_problem"] == {"no owner": 1, "no touch past the SLA": 0}
    assert [row["email"] for row in shown["rows"]] == ["ann@unlisted-co.io"]
    counted = client.get("/api/reports/cracks?limit=0", headers=sales).json()
    assert (counted["rows"], counted["total"], counted["shown"]) == ([], 1, 0)
    beyond = client.get("/api/reports/cracks?limit=5&offset=1&format=csv", headers=sales)
    assert beyond.status_code == 200 and beyond.text.strip().startswith("lead_id,email")
    assert len(beyond.text.strip().splitlines()) == 1
    for query in ("limit=-1", "limit=10001", "limit=ten", "limit=1.5", "offset=-1",
                  f"offset={2**63}", "offset=x"):  # fmt: skip
        bad = client.get(f"/api/reports/cracks?{query}", headers=sales)
        assert bad.status_code == 422, (query, bad.text)
        assert query.split("=")[0] in bad.text


def test_plan_and_commit(client: TestClient, make_key: Callable[[Role], str]) -> None:
    marketing = bearer(make_key(Role.MARKETING))
    seed(client, make_key(Role.MARKETING))
    query = [("goal", "1000000"), ("deal_size", "10000"), ("period", "month"), *RATES]
    plan = client.get("/api/plan", params=query, headers=marketing)
    assert plan.status_code == 200, plan.text
    required = {s["stage"]: s["required"] for s in plan.json()["stages"]}
    assert (required["customer"], required["sql"], required["visit"]) == (100, 2000, 500_000)
    bad = client.get("/api/plan", params=[*query, ("rate", "mql=4")], headers=marketing)
    assert bad.status_code == 422 and "rate: 'mql=4'" in bad.json()["error"]["message"]
    sales = bearer(make_key(Role.SALES))
    assert client.post("/api/plan/commit", params=query, headers=sales).status_code == 403
    committed = client.post("/api/plan/commit", params=query, headers=marketing)
    assert committed.status_code == 200, committed.text
    assert committed.json()["mql_commitment_per_month"] == 5000
    assert client.get("/api/sla", headers=marketing).json()["marketing"]["commitment"] == 5000


def test_goals_channels_and_the_digest(client: TestClient, make_key: Callable[[Role], str]) -> None:
    admin, sales = bearer(make_key(Role.ADMIN)), bearer(make_key(Role.SALES))
    seed(client, make_key(Role.MARKETING))
    goal = {"name": "Lead to SQL", "period": "2026-Q4", "conversion": "lead:sql", "rate": 0.5}
    assert client.post("/api/goals", json=goal, headers=sales).status_code == 403
    created = client.post("/api/goals", json=goal, headers=admin)
    assert created.status_code == 201, created.text
    bad = client.post("/api/goals", json={**goal, "conversion": "sql:lead"}, headers=admin)
    assert bad.status_code == 422 and "funnel order" in bad.json()["error"]["message"]
    assert [g["name"] for g in client.get("/api/goals", headers=sales).json()] == ["Lead to SQL"]
    channel = {"purpose": "digest", "url": "json://127.0.0.1:9/x", "schedule": "fri 16:00"}
    assert client.post("/api/channels", json=channel, headers=admin).status_code == 201
    wrong = client.post("/api/channels", json={**channel, "url": "nope"}, headers=admin)
    assert wrong.status_code == 422 and "not an Apprise URL" in wrong.json()["error"]["message"]
    digest = client.get("/api/reports/digest", headers=sales).json()
    assert digest["funnel"]["lead"] >= 0 and digest["title"].startswith("Sales and marketing")
    gone = client.delete(f"/api/goals/{created.json()['id']}", headers=admin)
    assert gone.status_code == 204 and client.get("/api/goals", headers=sales).json() == []


def test_merge_a_duplicate_through_the_api(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    marketing = bearer(make_key(Role.MARKETING))
    seed(client, make_key(Role.MARKETING))
    merged = client.post("/api/leads/ann@unlisted-co.io/merge",
                         json={"duplicate": "bo@unlisted-co.io"}, headers=marketing)  # fmt: skip
    assert merged.status_code == 200, merged.text
    assert merged.json()["events_moved"] == 1 and merged.json()["lead"]["stage"] == "sql"
    # The duplicate's address names the lead kept from now on (its next event is Ann's).
    folded = client.get("/api/leads/bo@unlisted-co.io", headers=marketing)
    assert folded.status_code == 200 and folded.json()["email"] == "ann@unlisted-co.io"
    itself = client.post("/api/leads/ann@unlisted-co.io/merge",
                         json={"duplicate": "ann@unlisted-co.io"}, headers=marketing)  # fmt: skip
    assert itself.status_code == 422 and "itself" in itself.json()["error"]["message"]


def test_a_plan_without_a_measured_rate_asks_for_the_rate_parameter(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    """The refusal said 'give --rate visit=R', the command line's flag, to an API client."""
    marketing = bearer(make_key(Role.MARKETING))
    seed(client, make_key(Role.MARKETING))
    query = [("goal", "1000000"), ("deal_size", "10000"), *RATES[1:]]
    refused = client.get("/api/plan", params=query, headers=marketing)
    assert refused.status_code == 422, refused.text
    message = refused.json()["error"]["message"]
    assert message.startswith("no measured rate for visit in the last 180 days: 2 leads came")
    assert "--rate" not in message
    assert message.endswith("give the query parameter rate=visit=R"), message
