"""Engine, sessions, declarative base and migrations."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, Double, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from leadflow.core.errors import Invalid
from leadflow.models.types import UTCDateTime

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DATABASE_URL = "sqlite:///leadflow.db"
# How long a SQLite writer waits for another's lock unless its transaction asks otherwise.
BUSY_MS = 5000
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: named constraints, UTC timestamps and JSON for dicts and lists."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        float: Double(),
        dict[str, Any]: JSON(),
        list[dict[str, Any]]: JSON(),
        list[str]: JSON(),
        list[float]: JSON(),
    }


def database_url_from_env() -> str:
    """LEADFLOW_DATABASE_URL, or the embedded SQLite default."""
    return os.environ.get("LEADFLOW_DATABASE_URL") or DEFAULT_DATABASE_URL


# Every SQLite connection's. temp_store=MEMORY: the statement journal SQLite keeps for every
# write to a table with triggers (`leads`: name_blocks, migration 0034), and the sorts of a
# GROUP BY or an index build, stay in memory instead of temporary files: an import wrote its
# leads 15-20% slower with the triggers and file-backed journals, and as fast as before.
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "temp_store=MEMORY")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Driver autocommit: SQLAlchemy emits BEGIN itself (see _sqlite_begin), so SAVEPOINT works
    # and the pragmas below run outside any transaction (WAL cannot be switched inside one).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writer asks for BEGIN IMMEDIATE (execution option `sqlite_begin`): it takes the write
    # lock up front and waits for it (busy_timeout) instead of failing with SQLITE_BUSY when a
    # read transaction later tries to write while another writer is committing.
    # A transaction may bound its lock wait (execution option `sqlite_busy_ms`, e.g. a request
    # that must answer within a second); the connection keeps the setting until changed back.
    options = connection.get_execution_options()
    wait = int(options.get("sqlite_busy_ms", BUSY_MS))
    if connection.info.get("busy_ms", BUSY_MS) != wait:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={wait}")
        connection.info["busy_ms"] = wait
    connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', '')}".strip())
    # Rows changed by this connection so far: unchanged later means the transaction has
    # written nothing, so a second connection sees what it sees (repositories/event_columns).
    raw = connection.connection.dbapi_connection
    connection.info["leadflow_changes_at_begin"] = getattr(raw, "total_changes", None)


def json_text(value: Any) -> str:
    """A JSON column's text: strict JSON, so nothing stored can break a later read."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        # NaN and Infinity are not JSON; inputs refuse them, this is the last line of defence.
        raise Invalid(
            "a value to store holds a number that is not finite (NaN or Infinity); nothing stored"
        ) from None


def _sqlite_read_only(context: ExceptionContext) -> None:
    # A connection opened while the file was read-only stays so: drop the pool's connections,
    # so the database takes writes again as soon as the file does.
    if "readonly database" in str(context.original_exception).lower():
        context.is_disconnect = True


def make_engine(url: str, *, lock_wait_ms: int | None = None) -> Engine:
    """An engine for the URL: SQLite tuned for WAL and foreign keys; PostgreSQL via psycopg 3.

    `lock_wait_ms` bounds how long a PostgreSQL statement waits for a lock (`lock_timeout`);
    SQLite transactions bound theirs with the `sqlite_busy_ms` execution option.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"sqlite", "postgresql", "postgres"}:
        raise Invalid(
            f"database URL scheme {parsed.drivername!r} is not supported: use sqlite:///FILE "
            "or postgresql://USER:PASSWORD@HOST/DATABASE"
        )
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        args = {"options": f"-c lock_timeout={lock_wait_ms}"} if lock_wait_ms else {}
        return create_engine(
            parsed, pool_pre_ping=True, connect_args=args, json_serializer=json_text
        )
    engine = create_engine(parsed, json_serializer=json_text)
    event.listen(engine, "handle_error", _sqlite_read_only)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    from alembic.config import Config  # imported on use: most commands never migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (for tests and benchmarks of migrations)."""
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def upgrade(engine_or_url: Engine | str, revision: str = "heads") -> None:
    """Create or upgrade the database schema to the latest migration."""
    from alembic import command

    owned = isinstance(engine_or_url, str)
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        # Not one outer transaction: each migration runs in its own (env.py), so a migration can
        # step out of it to build an index CONCURRENTLY on a live PostgreSQL.
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        if owned:
            engine.dispose()


def schema_problem(engine: Engine) -> str | None:
    """None when the database has every migration this code ships, else why not, in a line.

    Raises the driver's error when the database cannot be reached (see `describe_failure`).
    """
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    expected = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    if applied == expected:
        return None
    if not applied:
        return "has no leadflow tables (run `leadflow init` to create them)"
    missing = ", ".join(sorted(expected - applied)) or "none"
    unknown = applied - _known_revisions()
    if unknown:
        return (
            f"is at migration {', '.join(sorted(unknown))}, newer than this leadflow knows "
            "(run the leadflow version that wrote it)"
        )
    return (
        f"is at an older migration ({', '.join(sorted(applied))}; missing {missing}): "
        "run `leadflow init` to upgrade it"
    )


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def describe_failure(exc: BaseException) -> str:
    """One line for a database that cannot be opened: the driver's first line, no SQL."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()
    return first[0] if first else type(orig).__name__
