"""The pages' snapshots: read one, replace one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models.page_snapshot import PageSnapshot
from leadflow.repositories._sql import dialect_insert


def get(session: Session, name: str) -> PageSnapshot | None:
    """The snapshot `name`, or None before the worker's first refresh."""
    return session.scalar(select(PageSnapshot).where(PageSnapshot.name == name))


def put(
    session: Session, name: str, content: dict[str, Any], *, as_of: datetime, took_ms: int
) -> None:
    """Replace the snapshot `name` (one upsert: two refreshing workers never collide)."""
    values = {"as_of": as_of, "took_ms": took_ms, "content": content}
    statement = dialect_insert(session, PageSnapshot).values(name=name, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))


def taken(session: Session) -> list[tuple[str, datetime, int]]:
    """(name, as_of, took_ms) of every stored snapshot, without their content."""
    query = select(PageSnapshot.name, PageSnapshot.as_of, PageSnapshot.took_ms)
    return [(name, as_of, int(took)) for name, as_of, took in session.execute(query)]
