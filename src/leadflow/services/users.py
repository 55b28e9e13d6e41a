"""People who sign in, their passwords (scrypt) and their sessions."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leadflow.core.addresses import email_address
from leadflow.core.errors import Conflict, Invalid, LeadflowError, NotFound
from leadflow.core.roles import UserRole
from leadflow.models.user import SignInLink, User, WebSession
from leadflow.repositories import users as user_repo

SESSION_LIFETIME = timedelta(hours=12)
LINK_LIFETIME = timedelta(hours=24)
# Sign-in links are rows of their own table (`sign_in_links`), never sessions: a session token
# (anyone's cookie) is no link, and a link (in any form) is no session cookie. A link's row is
# stored under the digest of this prefix and its token, as it was when links were kept beside
# sessions, so links made then still open.
LINK = "sign-in-link:"
MIN_PASSWORD = 10
# scrypt's cost: 2^14 rounds of 8 x 128 bytes, about 16 MiB and 50 ms here: slow to guess.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# Sign-in throttling: this many failures in the window lock the account (or the address, which
# may be an office behind one NAT, hence more) until the oldest of them leaves the window.
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
THROTTLE_WINDOW = timedelta(minutes=15)


class Throttled(LeadflowError):
    """Too many failed sign-ins: the message says when to try again."""

    status_code = 429

    def __init__(self, what: str, until: datetime, now: datetime) -> None:
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(
            f"Too many failed sign-ins {what}. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''} (after {until:%H:%M} UTC)."
        )


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
    email = new_user_email(session, email, role)
    _check_password(password)
    user = User(email=email, name=name.strip() or email, role=role,
                password_hash=hash_password(password), created_at=now)  # fmt: skip
    return user_repo.add(session, user)


def new_user_email(session: Session, email: str, role: str) -> str:
    """The e-mail a new user with this role would have (normalized); Invalid names a bad
    e-mail or role, Conflict a taken e-mail: what can be told before asking for a password."""
    try:
        email = email_address(email)  # the same check as a lead's
    except ValueError as exc:
        raise Invalid(f"email: {exc}") from None
    if role not in {r.value for r in UserRole}:
        raise Invalid(f"role: {role!r} must be one of {', '.join(r.value for r in UserRole)}")
    if user_repo.by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} exists")
    return email


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (no hint which was wrong)."""
    user = user_repo.by_email(session, email.strip().lower())
    if user is None or not user.active:
        hash_password(password)  # as slow either way: the answer time tells nothing
        return None
    return user if password_matches(password, user.password_hash) else None


def sign_in(
    session: Session, email: str, password: str, address: str, now: datetime
) -> User | None:
    """`authenticate`, throttled: Throttled while the account or the client address has too
    many recent failures (even for the right password); each failure is recorded."""
    account = email.strip().lower()
    check_throttle(session, account, address, now)
    user = authenticate(session, account, password)
    if user is None:
        user_repo.add_failure(session, account, address, now)
        user_repo.forget_failures(session, before=now - THROTTLE_WINDOW)
        return None
    user_repo.forget_failures(session, account=account, before=now - THROTTLE_WINDOW)
    return user


def check_throttle(session: Session, account: str, address: str, now: datetime) -> None:
    """Throttled when the last `limit` failures of the account (or address) fall in the window."""
    since = now - THROTTLE_WINDOW
    for what, times, limit in (
        ("for this account", user_repo.failure_times(session, since=since, account=account),
         ACCOUNT_LIMIT),
        ("from this address", user_repo.failure_times(session, since=since, address=address),
         ADDRESS_LIMIT),
    ):  # fmt: skip
        if len(times) >= limit:
            raise Throttled(what, times[-limit] + THROTTLE_WINDOW, now)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> str:
    """A new session for the user; the cookie's token (shown once)."""
    token = secrets.token_urlsafe(32)
    user_repo.add_session(session, WebSession(
        token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
        created_at=now, expires_at=now + SESSION_LIFETIME))  # fmt: skip
    return token


def session_for(session: Session, token: str, now: datetime) -> tuple[User, WebSession] | None:
    """The signed-in user and their session, or None when unknown, expired or deactivated."""
    found = user_repo.get_session(session, _digest(token))
    if found is None or found.expires_at <= now:
        return None
    user = user_repo.get(session, found.user_id)
    return (user, found) if user is not None and user.active else None


def session_key(token: str) -> str:
    """What a session is kept under: its token's SHA-256 (the token itself is never stored)."""
    return _digest(token)


def roles_signed_in(session: Session, keys: Collection[str], now: datetime) -> dict[str, str]:
    """Of these sessions (`session_key`), the ones that still sign their person in (unexpired,
    the person active), each with the person's role now."""
    return user_repo.roles_signed_in(session, sorted(keys), now)


def end_session(session: Session, token: str) -> None:
    user_repo.delete_session(session, _digest(token))


def list_users(session: Session) -> list[User]:
    return user_repo.list_users(session)


def live_sessions(session: Session, now: datetime) -> dict[int, int]:
    """Unexpired sessions per user id."""
    return user_repo.live_sessions(session, now)


def _user(session: Session, email: str) -> User:
    user = user_repo.by_email(session, email.strip().lower())
    if user is None:
        raise NotFound(f"no user with e-mail {email.strip().lower()}")
    return user


def deactivate(session: Session, email: str) -> tuple[User, int]:
    """The user may no longer sign in; every session of theirs ends now. (user, sessions)"""
    user = _user(session, email)
    user.active = False
    return user, user_repo.delete_sessions_of(session, user.id)


def activate(session: Session, email: str) -> User:
    """A deactivated user may sign in again (with their password)."""
    user = _user(session, email)
    user.active = True
    return user


def reset_password(
    session: Session, email: str, password: str | None, now: datetime
) -> tuple[User, str, int]:
    """A new password (generated when None); every session ends and the account's failed
    sign-ins are forgotten. (user, the password, sessions ended)"""
    user = _user(session, email)
    password = password if password is not None else secrets.token_urlsafe(12)
    _check_password(password)
    user.password_hash = hash_password(password)
    user_repo.forget_failures(session, account=user.email, before=now - THROTTLE_WINDOW)
    return user, password, user_repo.delete_sessions_of(session, user.id)


# The demo's people (fictional), one per role, on the demo company's domain; every demo rep
# signs in too, so whoever a lead is routed to sees it arrive in their bell.
DEMO_USERS = (
    ("nora@flowline.example", "Nora Patel", UserRole.REP),
    ("sam@flowline.example", "Sam Okafor", UserRole.REP),
    ("jonas@flowline.example", "Jonas Berg", UserRole.REP),
    ("ava@flowline.example", "Ava Chen", UserRole.REP),
    ("leo@flowline.example", "Leo Martins", UserRole.REP),
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
        user = user_repo.by_email(session, email)
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
    link = SignInLink(token_hash=_digest(LINK + token), user_id=user.id, created_at=now,
                      expires_at=now + LINK_LIFETIME)  # fmt: skip
    user_repo.add_link(session, link)
    return token


def link_user(session: Session, token: str, now: datetime) -> User | None:
    """Whom an unused, unexpired sign-in link is for (the link stays unused)."""
    found = user_repo.get_link(session, _digest(LINK + token))
    if found is None or found.expires_at <= now:
        return None
    user = user_repo.get(session, found.user_id)
    return user if user is not None and user.active else None


def redeem(session: Session, token: str, now: datetime) -> str | None:
    """Trade a one-time sign-in link for a new session token; None when it is not valid."""
    user = link_user(session, token, now)
    if user is None:
        return None
    if not user_repo.delete_link(session, _digest(LINK + token)):
        return None  # another confirmation used it up meanwhile: one link, one session
    return start_session(session, user, now)
