"""Sessions and one-time sign-in links are kept apart: neither token works as the other
(both engines)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.errors import Invalid
from leadflow.models.user import User
from leadflow.services import users

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as db, db.begin():
        yield db


def _someone(session: Session) -> User:
    return users.create_user(session, email="ann@acme.io", name="Ann", role="manager",
                             password="a long password", now=NOW)  # fmt: skip


def test_a_sign_in_link_is_never_a_session(session: Session) -> None:
    ann = _someone(session)
    link = users.sign_in_link(session, ann, NOW)
    for cookie in (link, f"sign-in-link:{link}"):
        assert users.session_for(session, cookie, NOW) is None
    assert users.live_sessions(session, NOW) == {}  # a link is no open session
    assert users.link_user(session, link, NOW) == ann  # still unused
    fresh = users.redeem(session, link, NOW)
    assert fresh is not None and users.session_for(session, fresh, NOW) is not None
    assert users.link_user(session, link, NOW) is None  # used up
    assert users.redeem(session, link, NOW) is None


def test_a_session_is_never_a_sign_in_link(session: Session) -> None:
    ann = _someone(session)
    token = users.start_session(session, ann, NOW)
    assert users.link_user(session, token, NOW) is None
    assert users.redeem(session, token, NOW) is None
    assert users.session_for(session, token, NOW) is not None  # redeeming did not end it


def test_a_link_expires_and_ends_with_the_account(session: Session) -> None:
    ann = _someone(session)
    link = users.sign_in_link(session, ann, NOW)
    assert users.link_user(session, link, NOW + users.LINK_LIFETIME) is None
    assert users.link_user(session, link, NOW + timedelta(hours=1)) == ann
    users.reset_password(session, ann.email, None, NOW)
    assert users.link_user(session, link, NOW) is None  # a reset ends links too


@pytest.mark.parametrize(
    "email", ["ana@", "@flowline.io", "ana smith@flowline.io", "ana@flow line.io", "ana@localhost"]
)
def test_a_user_needs_an_e_mail_address_as_leads_do(session: Session, email: str) -> None:
    # Before: anything holding an "@" was taken (a lead's e-mail was checked, a user's not).
    with pytest.raises(Invalid, match="is not an e-mail address"):
        users.create_user(session, email=email, name="Ana", role="rep",
                          password="correct-horse-battery", now=NOW)  # fmt: skip


def test_a_user_e_mail_may_have_an_international_domain(session: Session) -> None:
    user = users.create_user(session, email=" Ana@Müller.de ", name="Ana", role="rep",
                             password="correct-horse-battery", now=NOW)  # fmt: skip
    assert user.email == "ana@müller.de"


def test_one_link_confirmed_twice_at_once_signs_in_once(sessions: sessionmaker[Session]) -> None:
    """Two confirmations of one link racing: the second has found the link and is about to
    use it up when the first uses it up and commits. The second must not sign in too
    (before, on PostgreSQL, its delete removed nothing and it made a second session anyway;
    on SQLite its write fails on the stale read, as a busy database does)."""
    with sessions() as setup, setup.begin():
        link = users.sign_in_link(setup, _someone(setup), NOW)
    won: list[str | None] = []

    def the_other_confirms_first(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("DELETE FROM sign_in_links") and not won:
            with sessions() as first, first.begin():
                won.append(users.redeem(first, link, NOW))

    with sessions() as second:
        second.begin()
        connection = second.connection()
        event.listen(connection, "before_cursor_execute", the_other_confirms_first)
        try:
            late = users.redeem(second, link, NOW)
            second.commit()
        except OperationalError:
            late = None  # SQLite: its write is refused, its read being stale
            second.rollback()
    assert won and won[0] is not None and late is None
    with sessions() as check:
        assert sum(users.live_sessions(check, NOW).values()) == 1
