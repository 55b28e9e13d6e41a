"""/api/users: the people who sign in (admin): list, deactivate, reset a password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from leadflow.api.deps import DbSession, Now, actor_of, require
from leadflow.api.strict_body import StrictRoute
from leadflow.core.roles import Permission
from leadflow.models.api_key import ApiKey
from leadflow.services import audit, users

router = APIRouter(prefix="/users", tags=["users"], route_class=StrictRoute)
Admin = Annotated[ApiKey, Depends(require(Permission.ADMIN))]


class PasswordIn(BaseModel):
    """A new password; none: one is generated and returned once."""

    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(None, min_length=users.MIN_PASSWORD, max_length=1000)


@router.get("", summary="Every user: role, active, open sessions (never a password)")
def list_users(session: DbSession, now: Now, _: Admin) -> list[dict[str, Any]]:
    """By role and e-mail."""
    open_now = users.live_sessions(session, now)
    return [{"id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.active,
             "sessions": open_now.get(u.id, 0)} for u in users.list_users(session)]  # fmt: skip


@router.post("/{email}/deactivate", summary="Stop a user signing in; end their sessions")
def deactivate(email: str, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    """404 when there is no such user."""
    user, ended = users.deactivate(session, email)
    _audit(session, caller, "user.deactivate", user.id, {"sessions_ended": ended}, now)
    return {"email": user.email, "active": user.active, "sessions_ended": ended}


@router.post("/{email}/activate", summary="Let a deactivated user sign in again")
def activate(email: str, session: DbSession, now: Now, caller: Admin) -> dict[str, Any]:
    """404 when there is no such user."""
    user = users.activate(session, email)
    _audit(session, caller, "user.activate", user.id, {}, now)
    return {"email": user.email, "active": user.active}


@router.post("/{email}/reset-password", summary="A new password; every session ends")
def reset_password(
    email: str, session: DbSession, now: Now, caller: Admin, body: PasswordIn | None = None
) -> dict[str, Any]:
    """A generated password is in the answer, once; a chosen one is not echoed."""
    chosen = body.password if body else None
    user, password, ended = users.reset_password(session, email, chosen, now)
    _audit(session, caller, "user.reset_password", user.id, {"sessions_ended": ended}, now)
    answer: dict[str, Any] = {"email": user.email, "sessions_ended": ended}
    if chosen is None:
        answer["password"] = password
    return answer


def _audit(
    session: DbSession, caller: ApiKey, action: str, user_id: int, details: dict[str, Any],
    now: Any,
) -> None:  # fmt: skip
    """Who changed which user (never a password)."""
    audit.record(session, actor=actor_of(caller), action=action, target=f"user:{user_id}",
                 details=details, now=now)  # fmt: skip
