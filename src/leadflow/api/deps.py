"""Request dependencies: one database transaction per request, the clock, and API key auth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.roles import Permission, Role, allows
from leadflow.models.api_key import ApiKey
from leadflow.services import keys


def utcnow() -> datetime:
    """The clock lives at the edge; services and core get `now` as a parameter."""
    return datetime.now(UTC)


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


def _transaction(request: Request) -> Iterator[Session]:
    # scope="function" (below): committed after the endpoint returns and BEFORE the response
    # is sent, so an acknowledged request is a durable one; any error rolls everything back.
    with _factory(request)() as session:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


DbSession = Annotated[Session, Depends(_transaction, scope="function")]
Now = Annotated[datetime, Depends(utcnow)]


def bearer_key(request: Request) -> str:
    """The key of `Authorization: Bearer KEY`, or a 401 saying what is missing."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise HTTPException(
            401,
            "missing API key: send `Authorization: Bearer KEY` (create one with "
            "`leadflow keys create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credentials.strip()


def require(permission: Permission) -> Callable[..., ApiKey]:
    """A dependency: the caller's key, which must exist (401) and allow `permission` (403)."""

    def check(request: Request, session: DbSession, now: Now) -> ApiKey:
        key = keys.authenticate(session, bearer_key(request), now)
        if key is None:
            raise HTTPException(
                401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not allows(Role(key.role), permission):
            raise HTTPException(
                403, f"a {key.role} key may not do this (needs {permission.value} permission)"
            )
        request.state.api_key_id = key.id
        return key

    return check
