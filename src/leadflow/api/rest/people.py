"""/api/people and /api/audit: people's data (erase, export) and the audit log (admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from leadflow.api.deps import DbSession, Now, actor_of, require
from leadflow.api.strict_body import StrictRoute
from leadflow.core.errors import Invalid
from leadflow.core.roles import Permission
from leadflow.models.api_key import ApiKey
from leadflow.services import audit, privacy

router = APIRouter(tags=["people's data and audit"], route_class=StrictRoute)
Admin = Annotated[ApiKey, Depends(require(Permission.ADMIN))]


@router.delete("/people/{key}", summary="Erase a person everywhere (GDPR / CCPA)")
def erase(key: str, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    """By e-mail, lead id or identity key; only anonymous counts remain. 404 when unknown."""
    return privacy.erase(session, key, actor=actor_of(caller), now=now)


@router.get("/people/{key}/export", summary="Everything held about a person, as JSON")
def export(key: str, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    """The lead, its account, identities, events, history, hand-offs, scores and alerts."""
    return privacy.export(session, key, actor=actor_of(caller), now=now)


@router.get("/audit", summary="The audit log, newest first")
def audit_log(
    session: DbSession,
    _: Admin,
    since: datetime | None = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Who changed what; never a secret, never a lead's personal data."""
    if since is not None and since.tzinfo is not None:
        try:  # compared in UTC, where 0001-01-01T00:00+14:00 is before the year 1
            since = since.astimezone(UTC)
        except OverflowError:
            why = "outside the years 1-9999 in UTC"
            raise Invalid(f"since: {why}", [("since", why)]) from None
    return audit.entries(
        session, since=since, actor=actor, action=action, limit=limit, offset=offset
    )
