"""People who sign in to the web app, and their sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, false
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class User(Base):
    """A person with a role: rep, manager, marketing or admin. A rep's `email` is also their
    e-mail as a rep, which is how their queue is found."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    role: Mapped[str]
    password_hash: Mapped[str]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The role was given by single sign-on (the provider's group claim), so it is the
    # provider's to take away: with no mapped group left, signing in there is refused.
    role_from_sso: Mapped[bool] = mapped_column(default=False, server_default=false())


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256, so a
    stolen database cannot sign anybody in. Each session has its own CSRF token."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SignInLink(Base):
    """A one-time sign-in link (`/welcome?token=`), kept apart from sessions so that neither
    token is ever taken for the other: the table holds the SHA-256 of its token."""

    __tablename__ = "sign_in_links"

    token_hash: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SignInFailure(Base):
    """A failed sign-in, by the account tried and the client address, for throttling; rows
    older than the throttling window are deleted as new ones arrive."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_account", "account", "at"),
        Index("ix_sign_in_failures_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str]
    address: Mapped[str]
    at: Mapped[datetime]
