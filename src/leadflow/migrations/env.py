"""Alembic environment: uses the caller's connection, else LEADFLOW_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import leadflow.models  # noqa: F401  (registers every table on Base.metadata)
from leadflow.models.db import Base, database_url_from_env, make_engine


def run(connection: Connection) -> None:
    """Run the migrations on one connection; batch mode lets SQLite alter tables."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        # One transaction per migration: a failed one leaves the database at the last good
        # revision, and `autocommit_block()` can build indexes concurrently on PostgreSQL.
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Given connection (leadflow.models.db.upgrade), or one opened from the configuration."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or database_url_from_env()
    engine = make_engine(url)
    try:
        with engine.begin() as opened:
            run(opened)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_online()
