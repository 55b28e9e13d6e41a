"""A session on a freshly migrated database, per engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine, make_session_factory, upgrade

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session in an open transaction on an upgraded database; rolled back afterwards."""
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
            session.rollback()
    finally:
        engine.dispose()
