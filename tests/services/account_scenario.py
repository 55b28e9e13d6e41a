"""Accounts a lead leaves (erased, merged away, moved by an import): what the live path keeps
of them, beside what a full re-score gives. Shared by the tests of those services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.account_rollup import engaged, hundredths
from leadflow.core.playbook import Playbook
from leadflow.models import Account, Lead
from leadflow.repositories import rule_state
from leadflow.services import playbooks
from leadflow.services.ingest.batch import ingest, parse_all
from tests.services.rescored import as_rescored

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BOOK = """
name: account roll-ups
engagement:
  rules:
    - {id: pages, label: Pages, points: 10, decay: false, event: {type: page}}
account_scoring: {engaged_min_engagement: 5}
lifecycle:
  lead: {field: email, exists: true}
  mql: {field: account.score, gte: 25}
routing: {fallback: inbound}
"""


def installed(session: Session) -> Playbook:
    """The scenario's playbook, installed as the active one."""
    playbooks.install(session, BOOK, author="test", now=T0)
    return playbooks.active_playbook(session)


def page(session: Session, book: Playbook, email: str, message_id: str, at: datetime) -> None:
    """A page view of this person, through the tracking path (scored live)."""
    message = {"type": "page", "userId": email, "messageId": message_id,
               "timestamp": at.isoformat(), "properties": {"path": "/x"}}  # fmt: skip
    messages, rejected = parse_all([message], at)
    assert not rejected
    ingest(session, book, messages, source="test", now=at)


def figures(session: Session, domains: list[str]) -> dict[str, tuple[Any, ...]]:
    """Each account's stored score: fit, engagement, total and engaged leads."""
    session.flush()
    session.expire_all()
    found = session.scalars(select(Account).where(Account.domain.in_(domains)))
    return {a.domain: (a.fit, a.engagement, a.total, a.engaged_leads) for a in found}


def rescored(
    session: Session, book: Playbook, domains: list[str], at: datetime
) -> dict[str, tuple[Any, ...]]:
    """What a full re-score (`leadflow rescore`) gives these accounts, then undone."""
    return as_rescored(session, book, at, lambda s: figures(s, domains))


def rollups_count_their_leads(session: Session, book: Playbook) -> None:
    """Every kept roll-up counts the leads its account has now: their engagement in
    hundredths, how many are engaged and how many there are."""
    session.flush()
    kept = rule_state.rollups(session, session.scalars(select(Account.id)))
    for account_id, rollup in kept.items():
        leads = session.scalars(select(Lead.engagement).where(Lead.account_id == account_id))
        points = list(leads)
        counted = (
            sum(hundredths(p) for p in points),
            sum(engaged(book, p) for p in points),
            len(points),
        )
        assert (rollup["hundredths"], rollup["engaged"], rollup["leads"]) == counted, account_id


def agrees_now_and_after_bobs_next_page(
    session: Session,
    book: Playbook,
    domains: list[str],
    at: datetime,
    expected: dict[str, tuple[Any, ...]],
) -> None:
    """The accounts show `expected`, as a re-score gives them, with roll-ups that count their
    leads; and so they still do after Bob's next page at acme (20 points, one engaged)."""
    after = figures(session, domains)
    assert after == expected
    assert after == rescored(session, book, domains, at)
    rollups_count_their_leads(session, book)
    later = at + timedelta(minutes=1)
    page(session, book, "bob@acme.com", "b2", later)
    assert figures(session, domains)["acme.com"] == (0, 20, 20, 1)
    assert rescored(session, book, domains, later)["acme.com"] == (0, 20, 20, 1)
    rollups_count_their_leads(session, book)
