"""Every report of the registry is listed and served, as JSON and as CSV, by its name."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from leadflow.services.reports import REGISTRY
from tests.api.conftest import bearer


def test_every_registered_report_is_listed_and_served(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    headers = bearer(make_key(Role.MARKETING))
    listed = client.get("/api/reports", headers=headers).json()
    assert listed == {name: report.description for name, report in REGISTRY.items()}
    for name in REGISTRY:
        shown = client.get(f"/api/reports/{name}", headers=headers)
        assert shown.status_code == 200 and shown.json()["report"] == name, shown.text
        exported = client.get(f"/api/reports/{name}?format=csv", headers=headers)
        assert exported.status_code == 200, exported.text
