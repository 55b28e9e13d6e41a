"""Playbook versions: numbered, hashed, and at most one active."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadflow.core.playbook_text import content_hash
from leadflow.models.playbook import PlaybookVersion


def get(session: Session, version_id: int) -> PlaybookVersion | None:
    """The version with this row id."""
    return session.get(PlaybookVersion, version_id)


def active(session: Session) -> PlaybookVersion | None:
    """The active version, if one is."""
    return session.scalar(select(PlaybookVersion).where(PlaybookVersion.active.is_(True)))


# Built once: read by every tracking call's transaction.
_ACTIVE_HASH = select(PlaybookVersion.content_hash).where(PlaybookVersion.active.is_(True))


def active_hash(session: Session) -> str | None:
    """The content hash of the active version (cheap: not its text)."""
    return session.connection().execute(_ACTIVE_HASH).scalar()


def get_by_hash(session: Session, digest: str) -> PlaybookVersion | None:
    """The latest version with this content hash."""
    query = select(PlaybookVersion).where(PlaybookVersion.content_hash == digest)
    return session.scalar(query.order_by(PlaybookVersion.version.desc()).limit(1))


def list_versions(session: Session) -> list[PlaybookVersion]:
    """Every version, newest first."""
    return list(session.scalars(select(PlaybookVersion).order_by(PlaybookVersion.version.desc())))


def create(
    session: Session, *, name: str, content: str, author: str, at: datetime
) -> PlaybookVersion:
    """Store a new, inactive version numbered one past the highest."""
    highest = session.scalar(select(func.max(PlaybookVersion.version))) or 0
    version = PlaybookVersion(
        version=highest + 1,
        name=name,
        content=content,
        content_hash=content_hash(content),
        author=author,
        created_at=at,
        active=False,
    )
    session.add(version)
    session.flush()
    return version


def activate(session: Session, version_id: int) -> PlaybookVersion:
    """Make this version the only active one."""
    # Deactivate first: the partial unique index refuses two active rows even for a moment.
    others = update(PlaybookVersion).where(
        PlaybookVersion.active.is_(True), PlaybookVersion.id != version_id
    )
    session.execute(others.values(active=False).execution_options(synchronize_session="fetch"))
    version = session.get_one(PlaybookVersion, version_id)
    version.active = True
    session.flush()
    return version


def shadow(session: Session) -> PlaybookVersion | None:
    """The version running in the shadow of the active one, if one is."""
    return session.scalar(select(PlaybookVersion).where(PlaybookVersion.shadow.is_(True)))


def set_shadow(session: Session, version_id: int | None) -> None:
    """Make this version the only shadow one (None: no shadow)."""
    others = update(PlaybookVersion).where(PlaybookVersion.shadow.is_(True))
    if version_id is not None:
        others = others.where(PlaybookVersion.id != version_id)
    session.execute(others.values(shadow=False).execution_options(synchronize_session="fetch"))
    if version_id is not None:
        session.get_one(PlaybookVersion, version_id).shadow = True
    session.flush()
