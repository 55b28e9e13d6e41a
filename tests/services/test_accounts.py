"""Accounts created or updated by domain (`POST /api/accounts`), merged accounts' domains
included: the same account and the same scores whatever domain of it is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import NotFound
from leadflow.models import Account, Lead
from leadflow.services import accounts, ingest, playbooks
from leadflow.services.lead_edits import create_lead
from tests.services.rescored import as_rescored

NOW = datetime(2026, 6, 1, tzinfo=UTC)
B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"


def _scores(session: Session) -> dict[str, tuple[float, float]]:
    session.flush()
    session.expire_all()
    return {lead.email: (lead.fit, lead.total) for lead in session.scalars(select(Lead))}


def _rescored(session: Session) -> dict[str, tuple[float, float]]:
    """What `leadflow rescore` gives every lead, then undone."""
    return as_rescored(session, playbooks.active_playbook(session), NOW, _scores)


def test_an_account_sent_under_a_merged_domain_updates_the_account_it_joined(
    session: Session,
) -> None:
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    book = playbooks.active_playbook(session)
    create_lead(session, book, {"email": "a@acme.com", "company": "Acme"}, now=NOW)
    create_lead(session, book, {"email": "b@acme-corp.com", "company": "Acme Corp"}, now=NOW)
    accounts.merge(session, book, "acme-corp.com", "acme.com", actor="ana", now=NOW)
    account, created = accounts.upsert(
        session, book, {"domain": "ACME-corp.com", "employees": 120}, now=NOW
    )
    assert not created and (account.domain, account.name) == ("acme.com", "Acme")
    assert account.employees == 120
    assert session.scalar(select(Account).where(Account.domain == "acme-corp.com")) is None
    # Both leads there read the new size at once, as a re-score reads it.
    assert _scores(session)["b@acme-corp.com"] == (20.0, 20.0)
    assert _scores(session) == _rescored(session)


def test_an_account_sent_by_a_subdomain_is_the_company_its_people_join(
    session: Session,
) -> None:
    """People from eu.acme.com join acme.com; an account sent as eu.acme.com (or its website)
    is that account too, as `import accounts` has it, so its size reaches them."""
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    book = playbooks.active_playbook(session)
    create_lead(session, book, {"email": "ann@eu.acme.com"}, now=NOW)
    account, created = accounts.upsert(
        session, book, {"domain": "https://eu.acme.com/about", "employees": 120}, now=NOW
    )
    assert not created and (account.domain, account.employees) == ("acme.com", 120)
    assert list(session.scalars(select(Account.domain))) == ["acme.com"]
    assert _scores(session)["ann@eu.acme.com"] == (20.0, 20.0)
    assert _scores(session) == _rescored(session)


def test_an_account_is_found_by_the_domains_its_people_come_from(session: Session) -> None:
    """`GET /api/accounts/{domain}` by a merged domain or a subdomain: the account those
    people joined (before: 404), while a merge still names accounts as they are."""
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    book = playbooks.active_playbook(session)
    create_lead(session, book, {"email": "a@acme.com", "company": "Acme"}, now=NOW)
    create_lead(session, book, {"email": "b@acme-corp.com", "company": "Acme Corp"}, now=NOW)
    accounts.merge(session, book, "acme-corp.com", "acme.com", actor="ana", now=NOW)
    for key in ("acme.com", "acme-corp.com", "eu.acme.com", "https://www.acme-corp.com/x"):
        found = accounts.detail(session, key)
        assert found["domain"] == "acme.com" and found["lead_count"] == 2, key
    with pytest.raises(NotFound, match=r"no account with domain 'acme-corp\.com'"):
        accounts.merge(session, book, "acme-corp.com", "acme.com", actor="ana", now=NOW)


def test_a_merge_says_when_the_account_merged_away_was_in_a_tier(session: Session) -> None:
    """Tiers are the playbook's list of domains: the account a tiered one joins is not in the
    tier until the list says so. Before, the merge said nothing and the leads lost the tier's
    points and routing without a word."""
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    book = playbooks.active_playbook(session)
    create_lead(session, book, {"email": "a@northwind.example", "company": "Northwind"}, now=NOW)
    create_lead(session, book, {"email": "b@northwind-logistics.com"}, now=NOW)  # a top account
    create_lead(session, book, {"email": "c@litware.io"}, now=NOW)  # another
    done = accounts.merge(
        session, book, "northwind-logistics.com", "northwind.example", actor="ana", now=NOW
    )
    assert done["tier_lost"] == "top"
    assert "northwind-logistics.com is in tier 'top'" in done["note"]
    assert "add northwind.example to the tier" in done["note"]
    kept = accounts.merge(session, book, "northwind.example", "litware.io", actor="ana", now=NOW)
    assert kept["tier_lost"] is None and kept["note"] == ""  # litware.io is top as well


SIZED = """
name: sized
fit:
  rules:
    - {id: software, label: Software, points: 10, when: {field: account.industry, equals: Software}}
"""


ACME = ["ann@acme.com", "bob@acme.com"]


@pytest.mark.parametrize(
    ("message", "people"),
    [
        ({"type": "identify", "userId": "cy@acme.com", "messageId": "i1",
          "traits": {"email": "cy@acme.com", "company": {"name": "Acme", "industry": "Software"}}},
         [*ACME, "cy@acme.com"]),
        ({"type": "group", "userId": "ann@acme.com", "groupId": "acme.com", "messageId": "g1",
          "traits": {"industry": "Software"}}, ACME),
    ],
    ids=["identify", "group"],
)  # fmt: skip
def test_a_tracking_call_that_fills_in_an_account_re_scores_its_people(
    session: Session, message: dict[str, object], people: list[str]
) -> None:
    """acme had no industry; an identify's company trait (or a group call's traits) fills it
    in: Ann and Bob, already there, score on what acme is now, as a re-score scores them."""
    playbooks.install(session, SIZED, author="t", now=NOW)
    book = playbooks.active_playbook(session)
    for email in ACME:
        create_lead(session, book, {"email": email}, now=NOW)
    messages, rejected = ingest.parse_all([{**message, "timestamp": NOW.isoformat()}], NOW)
    assert not rejected

    ingest.ingest(session, book, messages, source="test", now=NOW)

    assert {email: fit for email, (fit, _) in _scores(session).items()} == dict.fromkeys(people, 10)
    assert _scores(session) == _rescored(session)


def test_the_demos_leads_say_how_they_met_their_account(session: Session) -> None:
    """`leads show` of a demo lead names its account match, as an imported lead's does."""
    from leadflow.services import demo

    demo.build(session, B2B.read_text(), leads=30, now=NOW, seed=4, train=False)
    at_accounts = session.execute(
        select(Lead.email, Account.domain, Lead.account_confidence, Lead.account_reason).join(
            Account, Account.id == Lead.account_id
        )
    ).all()
    assert at_accounts
    for email, domain, confidence, reason in at_accounts:
        kind = "e-mail domain" if email.endswith(f"@{domain}") else "domain"
        assert (confidence, reason) == (1.0, f"{kind}: {domain}"), email
