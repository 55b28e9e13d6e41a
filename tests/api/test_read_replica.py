"""LEADFLOW_READ_DATABASE_URL: reports, the plan and the report pages read from a replica,
everything else (tracking, leads, actions) from the primary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadflow.api.app import create_app
from leadflow.core.roles import Role
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.services import keys, lead_edits, playbooks
from leadflow.settings import Settings
from tests.api.conftest import EXAMPLES, NOW, bearer
from tests.conftest import database_on
from tests.web.test_amount_form import signed_in


@pytest.fixture
def replica_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second database on the same engine, standing in for a replica: it holds other
    leads than the primary, so a figure shows which one was read."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/replica.db"
    else:
        yield from database_on(request.getfixturevalue("postgresql_proc"))


def _prepare(url: str, people: list[str]) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session, session.begin():
        playbooks.apply(session, (EXAMPLES / "b2b_saas.yaml").read_text(), author="t", now=NOW)
        book = playbooks.active_playbook(session)
        for email in people:
            lead_edits.create_lead(session, book, {"email": email}, now=NOW)
    engine.dispose()


def test_reports_read_the_replica_and_everything_else_the_primary(
    database_url: str, replica_url: str
) -> None:
    _prepare(database_url, ["ann@unlisted-co.io"])
    _prepare(replica_url, ["bo@a-co.io", "cy@b-co.io", "di@c-co.io"])
    app = create_app(Settings(database_url=database_url, read_database_url=replica_url))
    with app.state.sessions() as session, session.begin():
        key = bearer(keys.create(session, Role.MARKETING, "test", NOW).secret)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            funnel = client.get("/api/reports/funnel", headers=key)
            assert funnel.status_code == 200, funnel.text
            assert funnel.json()["rows"][0]["reached"] == 3  # the replica's leads
            rates = "&".join(f"rate={s}=0.5" for s in ("visit", "lead", "mql", "sql",
                                                        "opportunity"))  # fmt: skip
            plan = client.get(
                f"/api/plan?goal=1e5&deal_size=1e4&period=2026-Q2&{rates}", headers=key
            )
            assert plan.status_code == 200, plan.text
            assert plan.json()["stages"][1]["actual"] == 3  # leads so far, in the replica
            signed_in(client, app)  # a user of the primary
            dashboard = client.get("/dashboard")
            assert dashboard.status_code == 200
            assert re.search(r'class="l">Leads</div><div class="n">3<', dashboard.text)
            assert client.get("/plan").status_code == 200
            listed = client.get("/api/leads", headers=key).json()
            assert [lead["email"] for lead in listed["items"]] == ["ann@unlisted-co.io"]
    finally:
        app.state.engine.dispose()
        app.state.read_engine.dispose()


def test_without_a_replica_reports_read_the_primary(database_url: str) -> None:
    _prepare(database_url, ["ann@unlisted-co.io"])
    app = create_app(Settings(database_url=database_url))
    assert app.state.read_sessions is app.state.sessions
    with app.state.sessions() as session, session.begin():
        key = bearer(keys.create(session, Role.MARKETING, "test", NOW).secret)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            funnel = client.get("/api/reports/funnel", headers=key).json()
            assert funnel["rows"][0]["reached"] == 1
    finally:
        app.state.engine.dispose()
