"""0043 keeps one-time sign-in links in `sign_in_links`, apart from sessions: a link made when
both were rows of `web_sessions` moves over and still opens once, a session stays a session,
and neither works as the other."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine, upgrade
from leadflow.models.user import WebSession
from leadflow.services import users

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_0043_moves_unused_links_out_of_the_sessions(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    with Session(engine) as session, session.begin():
        # The users table as it was then (the model has columns later migrations add).
        ann_id = session.execute(
            text("INSERT INTO users (email, name, role, password_hash, active, created_at)"
                 " VALUES ('ann@acme.io', 'Ann', 'manager', 'x', :yes, :at) RETURNING id"),
            {"yes": True, "at": NOW},
        ).scalar_one()  # fmt: skip
        for token, lifetime in (("a-session", 12), ("sign-in-link:a-link", 24)):  # as stored
            ends = NOW + timedelta(hours=lifetime)
            session.add(WebSession(token_hash=_digest(token), user_id=ann_id, csrf_token="c",
                                   created_at=NOW, expires_at=ends))  # fmt: skip
    upgrade(engine)
    later = NOW + timedelta(hours=1)
    with Session(engine) as session, session.begin():
        assert users.session_for(session, "sign-in-link:a-link", later) is None
        assert users.session_for(session, "a-session", later) is not None
        assert users.link_user(session, "a-session", later) is None
        assert users.live_sessions(session, later) == {ann_id: 1}
        fresh = users.redeem(session, "a-link", later)
        assert fresh is not None and users.session_for(session, fresh, later) is not None
        assert users.redeem(session, "a-link", later) is None  # once
    engine.dispose()
