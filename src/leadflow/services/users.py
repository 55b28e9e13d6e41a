"""People who sign in, their passwords (scrypt) and their sessions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, Invalid
from leadflow.core.roles import UserRole
from leadflow.models.user import User, WebSession

SESSION_LIFETIME = timedelta(hours=12)
LINK_LIFETIME = timedelta(hours=24)
# A sign-in link's row is stored under the digest of this prefix and its token, so a session
# token (anyone's cookie) is never a link, and a link is never a session.
LINK = "sign-in-link:"
MIN_PASSWORD = 10
# scrypt's cost: 2^14 rounds of 8 x 128 bytes, about 16 MiB and 50 ms here: slow to guess.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **SCRYPT)
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


def create_user(
    session: Session, *, email: str, name: str, role: str, password: str, now: datetime
) -> User:
    """A new user; Invalid names a bad role, e-mail or short password, Conflict a taken e-mail."""
    email = email.strip().lower()
    if "@" not in email:
        raise Invalid(f"email: {email!r} is not an e-mail address")
    if role not in {r.value for r in UserRole}:
        raise Invalid(f"role: {role!r} must be one of {', '.join(r.value for r in UserRole)}")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with e-mail {email} exists")
    user = User(email=email, name=name.strip() or email, role=role,
                password_hash=hash_password(password), created_at=now)  # fmt: skip
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (no hint which was wrong)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        hash_password(password)  # as slow either way: the answer time tells nothing
        return None
    return user if password_matches(password, user.password_hash) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> str:
    """A new session for the user; the cookie's token (shown once)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user.id,
                           csrf_token=secrets.token_urlsafe(32), created_at=now,
                           expires_at=now + SESSION_LIFETIME))  # fmt: skip
    return token


def session_for(session: Session, token: str, now: datetime) -> tuple[User, WebSession] | None:
    """The signed-in user and their session, or None when unknown, expired or deactivated."""
    found = session.get(WebSession, _digest(token))
    if found is None or found.expires_at <= now:
        return None
    user = session.get(User, found.user_id)
    return (user, found) if user is not None and user.active else None


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


# The demo's people (fictional), one per role, on the demo company's domain.
DEMO_USERS = (
    ("nora@flowline.example", "Nora Patel", UserRole.REP),
    ("maya@flowline.example", "Maya Lindqvist", UserRole.MANAGER),
    ("mia@flowline.example", "Mia Novak", UserRole.MARKETING),
    ("admin@flowline.example", "Demo Admin", UserRole.ADMIN),
)


def demo_users(session: Session, now: datetime) -> tuple[str, str]:
    """Create (or reset) the demo users with one fresh random password; (that password, a
    one-time sign-in token for the manager)."""
    password = secrets.token_urlsafe(9)
    manager = None
    for email, name, role in DEMO_USERS:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(session, email=email, name=name, role=role.value,
                               password=password, now=now)  # fmt: skip
        user.password_hash = hash_password(password)
        if role is UserRole.MANAGER:
            manager = user
    assert manager is not None
    return password, sign_in_link(session, manager, now)


def sign_in_link(session: Session, user: User, now: datetime) -> str:
    """A one-time token that signs the user in once confirmed (`/welcome`); shown once."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(LINK + token), user_id=user.id,
                           csrf_token=secrets.token_urlsafe(32), created_at=now,
                           expires_at=now + LINK_LIFETIME))  # fmt: skip
    return token


def link_user(session: Session, token: str, now: datetime) -> User | None:
    """Whom an unused, unexpired sign-in link is for (the link stays unused)."""
    found = session_for(session, LINK + token, now)
    return found[0] if found else None


def redeem(session: Session, token: str, now: datetime) -> str | None:
    """Trade a one-time sign-in link for a new session token; None when it is not valid."""
    user = link_user(session, token, now)
    if user is None:
        return None
    end_session(session, LINK + token)
    return start_session(session, user, now)
