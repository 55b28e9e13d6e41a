"""A worker with nothing to deliver takes no write lock.

Inside `leadflow serve` the worker polls the outbox twenty times a second. Taking the write
lock on each poll made every tracking call that came meanwhile wait for it (on SQLite the
server's request path waits in SQLite's busy handler, which sleeps in growing steps).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine, text

from leadflow.models.db import make_engine, make_session_factory
from leadflow.services import delivery
from tests.conftest import Migrate


@pytest.fixture
def engine(database_url: str, migrate: Migrate) -> Iterator[Engine]:
    # A bounded lock wait on PostgreSQL (SQLite's is the busy timeout): a worker that wants
    # the lock fails within a second instead of hanging the test.
    migrate(database_url)
    engine = make_engine(database_url, lock_wait_ms=1000)
    yield engine
    engine.dispose()


@contextmanager
def hold_the_outbox(engine: Engine) -> Iterator[None]:
    """Another writer holds the outbox (SQLite: the database's write lock)."""
    with engine.connect() as other:
        if engine.dialect.name == "sqlite":
            other.exec_driver_sql("CREATE TABLE held (x INTEGER)")  # a write: the lock is held
        else:
            other.exec_driver_sql("LOCK TABLE outbox IN EXCLUSIVE MODE")  # reads still pass
        yield
        other.rollback()


def test_an_idle_poll_does_not_wait_for_another_writer(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with hold_the_outbox(engine), httpx.Client() as client:
        # Before: "database is locked" after the busy timeout (PostgreSQL: lock timeout).
        delivered = delivery.deliver_due(factory, "w", lambda: datetime.now(UTC), client)
    assert delivered == 0
    with factory() as session:
        assert session.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
