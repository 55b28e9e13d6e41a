"""Company domains: subdomains folded under the public suffix, free-mail addresses ignored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid, NotFound
from leadflow.models import Account, AuditEntry, Lead
from leadflow.services import accounts, playbooks
from leadflow.services import leads as lead_service
from leadflow.services.companies import REMEMBERED, business_domain, company_domain, registrable
from leadflow.services.importing import import_leads
from leadflow.services.lead_edits import create_lead


@pytest.mark.parametrize(
    ("value", "expected"),
    [("eu.acme.com", "acme.com"), ("https://www.shop.acme.co.uk/about", "acme.co.uk"),
     ("acme.github.io", "acme.github.io"), ("ACME.COM", "acme.com"), ("localhost", None),
     ("not a domain", None), (None, None), ("ac\x7fme.com", None)],
)  # fmt: skip
def test_company_domains_are_folded_to_what_was_registered(
    value: str | None, expected: str | None
) -> None:
    assert company_domain(value) == expected


def test_an_address_with_control_characters_makes_no_account(session: Session) -> None:
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    active = playbooks.active_playbook(session)
    # Found by the API fuzzer: the domain was trimmed as a key but not as a domain (a 500).
    lead = create_lead(session, active, {"email": "x@\x1f\x12ok.example"}, now=NOW)
    assert lead.account_id is None and lead.account_reason is None


def test_an_international_domain_in_either_form_is_one_account(session: Session) -> None:
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    active = playbooks.active_playbook(session)
    ana = create_lead(session, active, {"email": "ana@müller.de"}, now=NOW)
    bob = create_lead(session, active, {"email": "bob@xn--mller-kva.de"}, now=NOW)
    assert ana.account_id is not None and bob.account_id == ana.account_id
    assert company_domain("https://www.xn--mller-kva.de") == "müller.de"


def test_business_domains_come_from_company_addresses_only() -> None:
    assert business_domain("jane@eu.acme.com") == "acme.com"
    assert business_domain("jane@googlemail.com") is None
    assert business_domain("jane@mail.yahoo.co.uk") is None
    assert business_domain("not-an-address") is None


# --- matching leads to accounts, on both engines -----------------------------------------

NOW = datetime(2026, 6, 1, tzinfo=UTC)
B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"


def _import(session: Session, rows: list[dict[str, Any]]) -> None:
    numbered = [(k + 2, row) for k, row in enumerate(rows)]
    import_leads(session, numbered, skip_invalid=False, now=NOW)


def _lead(session: Session, email: str) -> Lead:
    lead = session.scalar(select(Lead).where(Lead.email == email))
    assert lead is not None
    return lead


def test_import_matches_company_names_when_no_domain_says(session: Session) -> None:
    _import(session, [
        {"email": "a@contoso.com", "company": "Contoso Ltd"},
        {"email": "b@acme.com", "company": "Acme Inc"},
        {"email": "c@acme.de", "company": "ACME GmbH"},
        {"email": "d@gmail.com", "company": "Contosso"},
        {"email": "e@gmail.com", "company": "Acme"},
        {"email": "f@gmail.com", "company": "Tailspin"},
        {"email": "g@gmail.com", "company": "Fabrikam Inc", "domain": "fabrikam.org"},
        {"email": "h@gmail.com", "company": "fabrikam"},
    ])  # fmt: skip
    contoso = _lead(session, "a@contoso.com").account_id
    by_email = _lead(session, "a@contoso.com")
    assert (by_email.account_confidence, by_email.account_reason) == (
        1.0,
        "e-mail domain: contoso.com",
    )
    typo = _lead(session, "d@gmail.com")
    assert typo.account_id == contoso and typo.account_confidence == 0.93
    assert typo.account_reason.startswith("company name: 'Contosso' ~ 'Contoso Ltd'")
    torn = _lead(session, "e@gmail.com")
    assert torn.account_id is None and torn.account_reason.startswith("ambiguous: 'Acme'")
    unknown = _lead(session, "f@gmail.com")
    assert unknown.account_id is None and unknown.account_reason is None
    given = _lead(session, "g@gmail.com")  # a given domain, even at a free-mail address
    assert given.account_id is not None and given.account_reason == "domain: fabrikam.org"
    same_file = _lead(session, "h@gmail.com")  # an account the same file made
    assert same_file.account_id == given.account_id and same_file.account_confidence == 1.0
    listed = accounts.ambiguous(session)
    assert [r["email"] for r in listed] == ["e@gmail.com", "d@gmail.com"]
    assert listed[1]["account"] == "contoso.com" and listed[1]["confidence"] == 0.93


def test_an_edit_with_only_a_company_name_links_by_name(session: Session) -> None:
    book = playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    assert book.version == 1
    active = playbooks.active_playbook(session)
    _import(session, [{"email": "a@northwind.io", "company": "Northwind Traders"}])
    lead = create_lead(
        session, active, {"email": "x@gmail.com", "company": "Northwind Traders Inc"}, now=NOW
    )
    assert lead.account_id == _lead(session, "a@northwind.io").account_id
    assert lead.account_confidence == 1.0 and "same name" in (lead.account_reason or "")
    shown = lead_service.detail(session, "x@gmail.com", active, NOW)
    assert shown["account_match"] == {"confidence": 1.0, "reason": lead.account_reason}
    with pytest.raises(Invalid, match="no account's name is near 'Fabrikam'"):
        create_lead(session, active, {"email": "y@gmail.com", "company": "Fabrikam"}, now=NOW)


def test_merge_moves_leads_rescores_and_is_audited(session: Session) -> None:
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    active = playbooks.active_playbook(session)
    _import(session, [
        {"email": "a@acme.com", "company": "Acme", "title": "VP Operations"},
        {"email": "b@acme-corp.com", "company": "Acme Corp"},
        {"email": "c@acme-corp.com", "company": "Acme Corp"},
    ])  # fmt: skip
    done = accounts.merge(session, active, "acme-corp.com", "acme.com", actor="ana", now=NOW)
    assert done["leads_moved"] == 2 and done["merged_from"] == "acme-corp.com"
    target = _lead(session, "a@acme.com").account_id
    moved = _lead(session, "b@acme-corp.com")
    assert moved.account_id == target and moved.scored_at == moved.updated_at == NOW
    assert moved.account_reason == "merged: account acme-corp.com merged into acme.com"
    assert session.scalar(select(Account).where(Account.domain == "acme-corp.com")) is None
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and (entry.action, entry.actor) == ("account.merge", "ana")
    assert entry.details["leads"] == 2 and entry.target == f"account:{target}"
    with pytest.raises(Invalid, match="same account"):
        accounts.merge(session, active, "acme.com", str(target), actor="ana", now=NOW)
    with pytest.raises(NotFound, match=r"acme-corp\.com"):
        accounts.merge(session, active, "acme-corp.com", "acme.com", actor="ana", now=NOW)


def test_a_merged_accounts_domain_keeps_leading_to_the_account_it_joined(
    session: Session,
) -> None:
    """After `accounts merge acme-corp.com acme.com`, people from acme-corp.com who arrive
    later (edits, imports, tracking) join acme.com, not a re-created acme-corp.com."""
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    active = playbooks.active_playbook(session)
    _import(session, [{"email": "a@acme.com", "company": "Acme"},
                      {"email": "b@acme-corp.com", "company": "Acme Corp"}])  # fmt: skip
    accounts.merge(session, active, "acme-corp.com", "acme.com", actor="ana", now=NOW)
    target = _lead(session, "a@acme.com").account_id
    assert create_lead(session, active, {"email": "c@acme-corp.com"}, now=NOW).account_id == target
    _import(session, [{"email": "d@eu.acme-corp.com", "company": "Acme Corp", "employees": 80}])
    assert _lead(session, "d@eu.acme-corp.com").account_id == target
    assert session.scalar(select(Account).where(Account.domain == "acme-corp.com")) is None
    assert session.get(Account, target).employees == 80  # type: ignore[union-attr]
    # Merging acme.com on into another account carries its old domains along.
    _import(session, [{"email": "e@acme-group.com", "company": "Acme Group"}])
    accounts.merge(session, active, "acme.com", "acme-group.com", actor="ana", now=NOW)
    group = _lead(session, "e@acme-group.com").account_id
    assert create_lead(session, active, {"email": "f@acme-corp.com"}, now=NOW).account_id == group
    assert create_lead(session, active, {"email": "g@acme.com"}, now=NOW).account_id == group


def test_the_domains_remembered_are_bounded_whatever_senders_send() -> None:
    # Before: every distinct host ever folded was kept for the life of the process, and the
    # hosts come from tracking calls (anyone holding the public write key): a stream of
    # made-up domains grew the server's memory without end.
    for n in range(REMEMBERED + 500):
        assert registrable(f"eu.made-up-{n}.com") == f"made-up-{n}.com"
    assert registrable.cache_info().currsize <= REMEMBERED
