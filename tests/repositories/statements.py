"""The statements a session's engine runs meanwhile: what tests of how a write is made read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


@contextmanager
def statements_run(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """(statement text, parameters) of every statement sent to the database meanwhile."""
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def starting(seen: list[tuple[str, Any]], words: str) -> list[str]:
    """The statements among these that start with these words (any case), as sent."""
    prefix = words.upper()
    return [text.strip() for text, _ in seen if text.lstrip().upper().startswith(prefix)]
