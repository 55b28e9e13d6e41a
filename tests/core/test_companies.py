"""Free-mail providers and company names compared fairly."""

from __future__ import annotations

import pytest

from leadflow.core.companies import is_free_mail, normalised_name


@pytest.mark.parametrize("domain", ["gmail.com", "GMAIL.COM", "yahoo.co.uk", "mail.yahoo.com"])
def test_free_mail_providers_are_known(domain: str) -> None:
    assert is_free_mail(domain)


@pytest.mark.parametrize("domain", ["acme.com", "gmail.company.io", "outlook-partners.com", None])
def test_companies_are_not_free_mail(domain: str | None) -> None:
    assert not is_free_mail(domain)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Acme, Inc.", "acme"), ("ACME GmbH", "acme"), ("The Acme Group Ltd", "acme"),
     ("Müller & Söhne KG", "muller and sohne"), ("", ""), (None, "")],
)  # fmt: skip
def test_company_names_lose_legal_forms_punctuation_and_case(
    name: str | None, expected: str
) -> None:
    assert normalised_name(name) == expected
