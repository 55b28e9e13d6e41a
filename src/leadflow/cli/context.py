"""What every command shares: the database URL, a transaction per command, and error output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.orm import Session

from leadflow.cli.terminal import TextConsole
from leadflow.core.errors import LeadflowError
from leadflow.models.db import (
    database_url_from_env,
    describe_failure,
    make_engine,
    make_session_factory,
    schema_problem,
)
from leadflow.services import audit

# soft_wrap: a message is one line a script can grep, whatever the terminal width. Data is
# printed as text, never as markup or control sequences (`cli/terminal.py`).
console = TextConsole(soft_wrap=True)
errors = TextConsole(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class CliState:
    """Options given before the command."""

    database_url: str | None = None

    def url(self) -> str:
        """The database to use: --db, else LEADFLOW_DATABASE_URL, else the embedded default."""
        return self.database_url or database_url_from_env()

    def shown_url(self) -> str:
        """The database URL for messages: its password masked (a URL that does not parse is
        shown as its scheme only, as it may hold a password in any place)."""
        try:
            return make_url(self.url()).render_as_string(hide_password=True)
        except ArgumentError:
            return self.url().split(":", 1)[0] + ":..."


state = CliState()


def utcnow() -> datetime:
    """The clock lives at the edge; the core gets `now` as a parameter."""
    return datetime.now(UTC)


def cli_actor(actor: str | None = None) -> str:
    """Who a command acts as (history, audit log): --actor, else the system user, else cli."""
    return actor or os.environ.get("USER") or "cli"


def audited(
    session: Session, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Record the command's change in the audit log, in the command's transaction."""
    audit.record(
        session, actor=cli_actor(), action=action, target=target, details=details, now=utcnow()
    )


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction for the whole command: committed on success, rolled back on error."""
    engine = make_engine(state.url())
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a clear error (no traceback) and return the exit to raise."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    return typer.Exit(code)


def database_trouble(exc: BaseException) -> str:
    """One line for a database error of a command: an older (or newer) schema says so and
    what to run; one that cannot be reached says why, in the driver's first line."""
    shown = state.shown_url()
    engine = None
    try:
        engine = make_engine(state.url())
        problem = schema_problem(engine)
    except Exception:  # unreachable: the original error says why
        problem = None
    finally:
        if engine is not None:
            engine.dispose()
    if problem:
        return f"database {shown!r} {problem}"
    if isinstance(exc, OperationalError | InterfaceError):
        return f"database {shown!r}: {describe_failure(exc)}"
    return f"database error: {exc.__class__.__name__}: {describe_failure(exc)}"


def require_current_schema() -> None:
    """Refuse to start (one line) on a database that cannot be reached or is not migrated."""
    engine = make_engine(state.url())
    try:
        problem = schema_problem(engine)
    finally:
        engine.dispose()
    if problem:
        raise fail(f"database {state.shown_url()!r} {problem}")


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn domain and database errors into one readable line and a non-zero exit."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LeadflowError as exc:
            raise fail(exc.message) from None
        except StatementError as exc:
            if isinstance(exc.orig, LeadflowError):  # refused while binding (models.db)
                raise fail(exc.orig.message) from None
            raise fail(database_trouble(exc)) from None
        except (ArgumentError, NoSuchModuleError) as exc:
            raise fail(f"database URL {state.shown_url()!r} is not valid: {exc}") from None
        except SQLAlchemyError as exc:
            raise fail(database_trouble(exc)) from None
        except Exception as exc:
            if type(exc).__name__ != "CommandError":  # alembic's, imported only to migrate
                raise
            # e.g. the database is at a migration this code does not know (a newer leadflow)
            raise fail(database_trouble(exc)) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return run
