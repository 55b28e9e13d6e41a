"""The audit log: every change records who did what, in the transaction of the change.

One call: `audit.record(session, actor=..., action=..., target=..., details=...)`. Actions are
`noun.verb` (`lead.merge`, `key.revoke`); targets name what changed by id (`lead:42`,
`key:3`), never by a lead's e-mail, so the log holds no lead's personal data and can stay
append-only through an erasure. Details are scrubbed of anything that looks like a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.models.audit import AuditEntry
from leadflow.repositories import audit as audit_repo

SECRET_WORDS = re.compile(r"secret|password|token|key_hash|api_key|apikey|credential", re.I)
REDACTED = "[redacted]"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    now: datetime,
) -> AuditEntry:
    """Append an entry; nothing is written outside the caller's transaction."""
    if not actor.strip() or not action.strip():
        raise Invalid("an audit entry needs an actor and an action")
    clean = {str(k): _scrub(str(k), v) for k, v in (details or {}).items()}
    return audit_repo.append(
        session, at=now, actor=actor.strip()[:200], action=action, target=target, details=clean
    )


def _scrub(key: str, value: Any) -> Any:
    """Secrets never reach the log: secret-named fields and URLs become a redacted form."""
    if SECRET_WORDS.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(key, v) for v in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


def redact_url(url: str) -> str:
    """A URL without its secrets: Apprise URLs carry tokens in every part, even the host."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        return f"{parts.scheme}://{parts.hostname}/{REDACTED}"
    return f"{parts.scheme}://{REDACTED}" if parts.scheme.isalnum() else REDACTED


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the API, the CLI and the page show it."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "details": entry.details,
    }


def entries(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The log, newest first."""
    for name, value in (("actor", actor), ("action", action)):
        if value is not None and (len(value) > 200 or not value.isprintable()):
            raise Invalid(f"{name}: at most 200 printable characters")
    found = audit_repo.entries(
        session, since=since, actor=actor, action=action, limit=limit, offset=offset
    )
    return [entry_dict(e) for e in found]
