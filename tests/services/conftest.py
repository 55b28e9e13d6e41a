"""What the service tests share: a migrated database's session factory, on each engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from leadflow.models.db import make_engine, make_session_factory
from tests.conftest import Migrate


@pytest.fixture
def sessions(database_url: str, migrate: Migrate) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh, migrated database (SQLite and PostgreSQL, as `database_url`)."""
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
