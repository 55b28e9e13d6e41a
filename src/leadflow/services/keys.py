"""API keys: create one (shown once), check one, revoke one.

Keys are 32 random bytes, so a plain SHA-256 of the key is a safe lookup hash: there is
nothing to brute-force that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid, NotFound
from leadflow.core.roles import Role
from leadflow.models.api_key import ApiKey
from leadflow.repositories import api_keys

PREFIX = "lf_"
# `last_used_at` is kept to the minute: writing it on every request would make reads writes.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    """A key just created: the secret is only ever available here."""

    key: ApiKey
    secret: str


def digest(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def role_of(text: str) -> Role:
    """The role named, or Invalid listing the roles there are."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise Invalid(f"unknown role {text!r}; roles are: {names}") from None


def create(session: Session, role: Role, name: str, now: datetime) -> NewKey:
    """A new key of this role; the caller shows `secret` once and never again."""
    secret = f"{PREFIX}{role.value}_{secrets.token_urlsafe(32)}"
    key = api_keys.create(
        session,
        name=name.strip() or f"{role.value} key",
        role=role.value,
        prefix=secret[: len(PREFIX) + len(role.value) + 5],
        key_hash=digest(secret),
        at=now,
    )
    return NewKey(key, secret)


def authenticate(session: Session, secret: str, now: datetime) -> ApiKey | None:
    """The live key this secret is, or None (unknown or revoked)."""
    if not secret:
        return None
    key = api_keys.by_hash(session, digest(secret))
    if key is None or key.revoked_at is not None:
        return None
    return key


def needs_touch(key: ApiKey, now: datetime) -> bool:
    """True when the key's `last_used_at` is over a minute old (authenticate never writes)."""
    return key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY


def record_use(session: Session, key_id: int, now: datetime) -> None:
    """Set the key's `last_used_at` unless it was set within the minute; its own transaction's
    work, never a read request's."""
    api_keys.touch(session, key_id, now, now - TOUCH_EVERY)


def revoke(session: Session, key_id: int, now: datetime) -> ApiKey:
    """Revoke a key at once; NotFound if there is no such key."""
    key = api_keys.get(session, key_id)
    if key is None:
        raise NotFound(f"no API key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = now
    return key


def list_keys(session: Session) -> list[ApiKey]:
    """Every key (never the secrets: only their prefixes are stored in clear)."""
    return api_keys.list_keys(session)
