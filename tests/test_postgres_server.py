"""tests/postgres_server.py: the local PostgreSQL server the tests and benchmarks start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from leadflow.models.db import make_engine, upgrade
from tests.postgres_server import create_database, find_pg_ctl, local_server

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _server_binaries() -> None:
    if find_pg_ctl() is None:
        if os.environ.get("LEADFLOW_REQUIRE_POSTGRES", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LEADFLOW_REQUIRE_POSTGRES is set but pg_ctl is missing", pytrace=False)
        pytest.skip("PostgreSQL server binaries not found")


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_serves_a_database_leadflow_migrates_and_is_removed_after(tmp_path: Path) -> None:
    home = tmp_path / "pg"
    with local_server(home) as proc:
        url = create_database(proc, "bench")
        upgrade(url)
        assert {"leads", "events", "alembic_version"} <= tables(url)
        assert (home / "data" / "PG_VERSION").exists()
    assert not proc.running()
    assert not home.exists()


def test_kept_server_starts_again_on_the_same_data(tmp_path: Path) -> None:
    home = tmp_path / "pg"
    with local_server(home, keep=True) as proc:
        upgrade(create_database(proc, "bench"))
    assert not proc.running()
    assert (home / "data" / "PG_VERSION").exists()
    with local_server(home) as again:  # not kept this time: removed afterwards
        assert "leads" in tables(create_database(again, "bench"))
    assert not home.exists()


def test_a_folder_whose_server_is_running_is_refused_and_that_server_left_running(
    tmp_path: Path,
) -> None:
    """A second run on a kept data directory while its server runs (another benchmark's)
    fails with a message, and does not stop the server it did not start."""
    home = tmp_path / "pg"
    with local_server(home, keep=True) as first:
        url = create_database(first, "bench")
        with pytest.raises(RuntimeError, match="already running"), local_server(home, keep=True):
            pass  # pragma: no cover - never reached
        assert first.running()
        assert tables(url) == set()  # still answering
    assert not first.running()
