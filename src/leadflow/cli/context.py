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
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from leadflow.core.errors import LeadflowError
from leadflow.models.db import database_url_from_env, make_engine, make_session_factory
from leadflow.services import audit

# soft_wrap: a message is one line a script can grep, whatever the terminal width.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

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
        """The database URL for messages: its password masked."""
        return make_url(self.url()).render_as_string(hide_password=True)


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
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn domain and database errors into one readable line and a non-zero exit."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LeadflowError as exc:
            raise fail(exc.message) from None
        except OperationalError as exc:
            hint = ""
            if "no such table" in str(exc.orig) or "no such column" in str(exc.orig):
                hint = " (an older schema: `leadflow init` upgrades it)"
            raise fail(f"database {state.shown_url()!r}: {exc.orig}{hint}") from None
        except StatementError as exc:
            if isinstance(exc.orig, LeadflowError):  # refused while binding (models.db)
                raise fail(exc.orig.message) from None
            raise fail(f"database error: {exc.__class__.__name__}: {exc}") from None
        except SQLAlchemyError as exc:
            raise fail(f"database error: {exc.__class__.__name__}: {exc}") from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return run
