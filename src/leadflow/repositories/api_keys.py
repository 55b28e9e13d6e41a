"""API keys by hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from leadflow.models.api_key import ApiKey


def create(
    session: Session, *, name: str, role: str, prefix: str, key_hash: str, at: datetime
) -> ApiKey:
    """Store a new key's hash."""
    key = ApiKey(name=name, role=role, prefix=prefix, key_hash=key_hash, created_at=at)
    session.add(key)
    session.flush()
    return key


def by_hash(session: Session, key_hash: str) -> ApiKey | None:
    """The key with this hash, revoked or not."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


def get(session: Session, key_id: int) -> ApiKey | None:
    """The key with this id."""
    return session.get(ApiKey, key_id)


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def touch(session: Session, key_id: int, at: datetime, unless_after: datetime) -> None:
    """Set `last_used_at`, unless it is already later than `unless_after`."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= unless_after))
        .values(last_used_at=at)
        .execution_options(synchronize_session=False)
    )
