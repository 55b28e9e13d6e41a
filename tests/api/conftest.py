"""An app on a fresh, initialised database (both engines), a client, and API keys per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from leadflow.models.db import make_engine, make_session_factory
from leadflow.services import keys, playbooks
from leadflow.settings import Settings
from tests.conftest import Prepared
from tests.live_server import serving

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def apply_b2b(url: str) -> None:
    """The B2B example playbook applied at NOW to the migrated database at `url`."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        text = (EXAMPLES / "b2b_saas.yaml").read_text()
        playbooks.apply(session, text, author="tests", now=NOW)
    engine.dispose()


@pytest.fixture
def app(database_url: str, prepared: Prepared) -> Iterator[FastAPI]:
    """The API on an upgraded database with the B2B example playbook active (a copy of one
    database it was applied to: the same rows, without applying it for every test)."""
    from leadflow.api.app import create_app

    prepared(database_url, "b2b", apply_b2b)
    application = create_app(Settings(database_url=database_url))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client that raises nothing itself: tests look at statuses."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_key(app: FastAPI) -> Callable[[Role], str]:
    """A new API key of the role, as its secret."""

    def make(role: Role) -> str:
        with app.state.sessions() as session, session.begin():
            return keys.create(session, role, f"test {role.value}", NOW).secret

    return make


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn on a free local port, for real clients and browsers."""
    with serving(app) as url:
        yield url
