"""Who is looking at a page: the session cookie, the role's permissions, CSRF on every form."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from leadflow.api.deps import DbSession, Now
from leadflow.core.roles import Permission, UserRole, user_allows
from leadflow.models.user import User
from leadflow.services import access, notifications, users

COOKIE = "lf_session"


class SignInRequired(Exception):
    """No valid session: the page sends the browser to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageForbidden(Exception):
    """Signed in, but the role may not see this."""

    def __init__(self, what: str) -> None:
        self.what = what


class BadCsrf(Exception):
    """A form without this session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person and the token their forms must carry."""

    user: User
    csrf: str
    unread: int = 0  # notifications not yet read: the bell's count

    @property
    def role(self) -> UserRole:
        return UserRole(self.user.role)

    def may(self, permission: Permission) -> bool:
        return user_allows(self.role, permission)

    @property
    def actor(self) -> access.Actor:
        return access.Actor.person(self.user)


def viewer(request: Request, session: DbSession, now: Now) -> Viewer:
    token = request.cookies.get(COOKIE)
    found = users.session_for(session, token, now) if token else None
    if found is None:
        query = request.url.query  # kept: a link to one lead's routing names the lead in it
        raise SignInRequired(request.url.path + (f"?{query}" if query else ""))
    user, web_session = found
    return Viewer(user, web_session.csrf_token, notifications.unread(session, user))


def can(permission: Permission) -> Callable[..., Viewer]:
    """A dependency: the viewer, who must be allowed `permission` (else a 403 page)."""

    def check(seen: Annotated[Viewer, Depends(viewer)]) -> Viewer:
        if not seen.may(permission):
            raise PageForbidden(f"a {seen.user.role} may not open this page")
        return seen

    return check


async def check_csrf(request: Request, seen: Viewer) -> None:
    """The form field or the X-CSRF-Token header (HTMX) must be this session's token."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        field = form.get("csrf_token")
        sent = field if isinstance(field, str) else None
    if not sent or not same_token(sent, seen.csrf):
        raise BadCsrf


def same_token(sent: str, expected: str) -> bool:
    """Constant-time equality of a token a client sent (any text) and the one expected."""
    # compare_digest refuses str that is not ASCII: compare UTF-8 bytes instead.
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8"))


Seen = Annotated[Viewer, Depends(viewer)]
