"""/api/reports/drift: the same report as `leadflow report drift`, by period."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer
from tests.services.drift_history import close_november, trained_model


def test_drift_over_http(app: FastAPI, client: TestClient, make_key: Callable[[Role], str]) -> None:
    headers = bearer(make_key(Role.MARKETING))
    none = client.get("/api/reports/drift", headers=headers).json()
    assert (none["status"], none["rows"]) == ("no_model", [])
    with app.state.sessions() as session, session.begin():
        trained_model(session)
        close_november(session, {"partner": 80, "ads": 20})
    shown = client.get("/api/reports/drift?period=2026-11", headers=headers)
    assert shown.status_code == 200, shown.text
    result = shown.json()
    assert (result["status"], result["outcomes"], result["model"]["version"]) == (
        "calibrated", 200, 1)  # fmt: skip
    csv = client.get("/api/reports/drift?period=2026-11&format=csv", headers=headers).text
    assert csv.splitlines()[0].startswith("decile,probability,leads,won,predicted,actual,gap")
    bad = client.get("/api/reports/drift?period=2026-13", headers=headers)
    assert bad.status_code == 422 and "month 13 does not exist" in bad.text
