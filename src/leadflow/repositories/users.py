"""Users, their sessions and failed sign-ins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadflow.models.user import SignInFailure, SignInLink, User, WebSession


def by_email(session: Session, email: str) -> User | None:
    """The user with this (normalised) e-mail."""
    return session.scalar(select(User).where(User.email == email))


def get(session: Session, user_id: int) -> User | None:
    """The user with this id."""
    return session.get(User, user_id)


def add(session: Session, user: User) -> User:
    """Store a new user."""
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by role and e-mail."""
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def add_session(session: Session, web_session: WebSession) -> None:
    """Store a new sign-in session."""
    session.add(web_session)


def get_session(session: Session, token_hash: str) -> WebSession | None:
    """The session with this token hash."""
    return session.get(WebSession, token_hash)


def delete_session(session: Session, token_hash: str) -> None:
    """End one session."""
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


def delete_sessions_of(session: Session, user_id: int) -> int:
    """End every session of a user, and every sign-in link for them; how many sessions."""
    session.execute(delete(SignInLink).where(SignInLink.user_id == user_id))
    done = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(done, "rowcount", 0) or 0)


def add_link(session: Session, link: SignInLink) -> None:
    """Store a new one-time sign-in link."""
    session.add(link)


def get_link(session: Session, token_hash: str) -> SignInLink | None:
    """The sign-in link with this token hash."""
    return session.get(SignInLink, token_hash)


def delete_link(session: Session, token_hash: str) -> bool:
    """Use up a sign-in link; False when it was used up already (by another transaction
    since this one read it)."""
    done = session.execute(delete(SignInLink).where(SignInLink.token_hash == token_hash))
    return bool(getattr(done, "rowcount", 0))


def live_sessions(session: Session, now: datetime) -> dict[int, int]:
    """Unexpired sessions per user id."""
    rows = session.execute(
        select(WebSession.user_id, func.count())
        .where(WebSession.expires_at > now)
        .group_by(WebSession.user_id)
    )
    return {int(user_id): int(n) for user_id, n in rows}


def roles_signed_in(session: Session, token_hashes: Sequence[str], now: datetime) -> dict[str, str]:
    """Of these sessions, the unexpired ones whose user is active: each with the user's role."""
    if not token_hashes:
        return {}
    rows = session.execute(
        select(WebSession.token_hash, User.role)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash.in_(token_hashes), WebSession.expires_at > now)
        .where(User.active.is_(True))
    )
    return {str(token_hash): str(role) for token_hash, role in rows}


def add_failure(session: Session, account: str, address: str, at: datetime) -> None:
    """Record a failed sign-in."""
    session.add(SignInFailure(account=account, address=address, at=at))


def failure_times(
    session: Session, *, since: datetime, account: str | None = None, address: str | None = None
) -> list[datetime]:
    """When sign-ins failed since `since`, for the account or the address, oldest first."""
    query = select(SignInFailure.at).where(SignInFailure.at > since)
    if account is not None:
        query = query.where(SignInFailure.account == account)
    if address is not None:
        query = query.where(SignInFailure.address == address)
    return list(session.scalars(query.order_by(SignInFailure.at)))


def forget_failures(session: Session, *, account: str | None = None, before: datetime) -> None:
    """Delete failures older than `before` (and, given an account, all of that account's)."""
    session.execute(delete(SignInFailure).where(SignInFailure.at < before))
    if account is not None:
        session.execute(delete(SignInFailure).where(SignInFailure.account == account))
