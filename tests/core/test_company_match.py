"""Company names matched to accounts: same, similar, near, ambiguous, unknown."""

from __future__ import annotations

from leadflow.core.company_match import Candidate, NameIndex, by_domain

ACCOUNTS = NameIndex(
    [
        Candidate(1, "Contoso Ltd", "contoso.com"),
        Candidate(2, "Acme Inc", "acme.com"),
        Candidate(3, "ACME GmbH", "acme.de"),
        Candidate(4, "Northwind Traders", "northwind.io"),
        Candidate(5, "Acme Labs", "acmelabs.io"),
        Candidate(6, "", "blank.io"),  # no name to compare: never matched
    ]
)


def test_the_same_name_after_normalising_links_for_sure() -> None:
    verdict = ACCOUNTS.match("acme labs, inc.")
    assert verdict is not None and verdict.account_id == 5 and verdict.confidence == 1.0
    assert (
        verdict.reason
        == "company name: 'acme labs, inc.' ~ 'Acme Labs' (acmelabs.io) 100%, same name"
    )
    word_order = ACCOUNTS.match("Traders Northwind")
    assert word_order is not None and word_order.account_id == 4


def test_a_typo_links_with_its_confidence() -> None:
    verdict = ACCOUNTS.match("Contosso")
    assert verdict is not None and verdict.account_id == 1 and verdict.confidence == 0.93
    assert "similar name" in verdict.reason


def test_two_accounts_as_near_link_nothing() -> None:
    verdict = ACCOUNTS.match("ACME")
    assert verdict is not None and verdict.account_id is None
    assert verdict.reason.startswith("ambiguous: 'ACME' is as near 'Acme Inc' (acme.com) 100%")
    assert "'ACME GmbH' (acme.de) 100%" in verdict.reason


def test_only_near_is_reported_not_linked() -> None:
    verdict = ACCOUNTS.match("Northwind Trading")
    assert verdict is not None and verdict.account_id is None and verdict.confidence == 0.82
    assert "only near 'Northwind Traders'" in verdict.reason


def test_unknown_names_and_no_names_match_nothing() -> None:
    assert ACCOUNTS.match("Fabrikam") is None
    assert ACCOUNTS.match("") is None and ACCOUNTS.match("Inc.") is None
    assert ACCOUNTS.match(None) is None
    assert NameIndex([]).match("Acme") is None


def test_a_domain_is_sure() -> None:
    assert by_domain("acme.com", from_email=True).reason == "e-mail domain: acme.com"
    assert by_domain("acme.com", from_email=False).confidence == 1.0
