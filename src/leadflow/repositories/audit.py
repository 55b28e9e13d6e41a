"""The audit log's SQL: append an entry, read entries; there is deliberately no update or delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models.audit import AuditEntry


def append(
    session: Session, *, at: datetime, actor: str, action: str, target: str, details: dict[str, Any]
) -> AuditEntry:
    """Add one entry in the caller's transaction."""
    entry = AuditEntry(at=at, actor=actor, action=action, target=target, details=details)
    session.add(entry)
    return entry


def entries(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEntry]:
    """Entries newest first, optionally from `since`, by one actor or of one action prefix."""
    query = select(AuditEntry)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))
