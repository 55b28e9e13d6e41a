"""Engines, migrations and the UTC timestamp type, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

import leadflow.models
from leadflow.models import Base, PlaybookVersion
from leadflow.models.db import (
    DEFAULT_DATABASE_URL,
    alembic_config,
    database_url_from_env,
    make_engine,
    make_session_factory,
    upgrade,
)

TABLES = {
    "accounts",
    "account_aliases",
    "predictive_models",
    "users",
    "web_sessions",
    "sign_in_failures",
    "sign_in_links",
    "stateless_search_due",
    "goals",
    "shared_channels",
    "leads",
    "identities",
    "events",
    "closed_content",
    "won_credit",
    "won_touches",
    "rule_states",
    "shadow_scores",
    "account_members",
    "account_rollups",
    "account_stage_due",
    "stage_changes",
    "score_ledger",
    "playbook_versions",
    "api_keys",
    "reps",
    "assignments",
    "outbox",
    "delivery_attempts",
    "webhook_endpoints",
    "notifications",
    "worker_heartbeats",
    "audit_log",
    "tombstones",
    "forgotten_messages",
    "erased_counts",
    "external_ids",
    "page_snapshots",
    "name_blocks",
    "lead_tallies",
}


def test_upgrade_creates_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        assert set(Base.metadata.tables) == TABLES
    finally:
        engine.dispose()


def test_upgrade_takes_a_url_and_runs_twice(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
            stored = connection.scalars(text("SELECT version_num FROM alembic_version"))
            assert set(stored) == heads
    finally:
        engine.dispose()


def test_migration_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, leadflow.models.Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_removes_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_timestamps_read_back_tz_aware_utc(database_url: str) -> None:
    engine = make_engine(database_url)
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=plus_two)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            session.add(
                PlaybookVersion(
                    version=1,
                    name="a",
                    content="",
                    content_hash="h",
                    author="t",
                    created_at=written,
                    active=False,
                )
            )
            session.add(
                PlaybookVersion(
                    version=2,
                    name="b",
                    content="",
                    content_hash="h",
                    author="t",
                    created_at=datetime(2025, 1, 1),
                    active=False,
                )
            )
        with factory() as session:
            stamps = session.scalars(
                select(PlaybookVersion.created_at).order_by(PlaybookVersion.version)
            ).all()
    finally:
        engine.dispose()
    assert stamps == [written, datetime(2025, 1, 1, tzinfo=UTC)]
    assert all(stamp.utcoffset() == timedelta(0) for stamp in stamps)


def test_sqlite_connections_are_tuned(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in (
                    "journal_mode", "synchronous", "foreign_keys", "busy_timeout", "temp_store"
                )
            }  # fmt: skip
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "temp_store": 2,  # MEMORY
    }


def test_sqlite_savepoints_roll_back_alone(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session, session.begin():
            session.add(
                PlaybookVersion(
                    version=1, name="kept", content="", content_hash="h", author="t", active=False
                )
            )
            with pytest.raises(RuntimeError), session.begin_nested():
                session.add(
                    PlaybookVersion(
                        version=2,
                        name="gone",
                        content="",
                        content_hash="h",
                        author="t",
                        active=False,
                    )
                )
                session.flush()
                raise RuntimeError
            names = session.scalars(select(PlaybookVersion.name)).all()
    finally:
        engine.dispose()
    assert names == ["kept"]


def test_postgresql_urls_use_psycopg() -> None:
    engine = make_engine("postgresql://user:secret@db.example/leadflow")
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.url.password == "secret"
    engine.dispose()


def test_database_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADFLOW_DATABASE_URL", raising=False)
    assert database_url_from_env() == DEFAULT_DATABASE_URL == "sqlite:///leadflow.db"
    monkeypatch.setenv("LEADFLOW_DATABASE_URL", "postgresql://x/y")
    assert database_url_from_env() == "postgresql://x/y"
