"""Company domains: subdomains folded under the public suffix, free-mail addresses ignored."""

from __future__ import annotations

import pytest

from leadflow.services.companies import business_domain, company_domain


@pytest.mark.parametrize(
    ("value", "expected"),
    [("eu.acme.com", "acme.com"), ("https://www.shop.acme.co.uk/about", "acme.co.uk"),
     ("acme.github.io", "acme.github.io"), ("ACME.COM", "acme.com"), ("localhost", None),
     ("not a domain", None), (None, None)],
)  # fmt: skip
def test_company_domains_are_folded_to_what_was_registered(
    value: str | None, expected: str | None
) -> None:
    assert company_domain(value) == expected


def test_business_domains_come_from_company_addresses_only() -> None:
    assert business_domain("jane@eu.acme.com") == "acme.com"
    assert business_domain("jane@googlemail.com") is None
    assert business_domain("jane@mail.yahoo.co.uk") is None
    assert business_domain("not-an-address") is None
