"""One definition of an e-mail address and a company domain, for imports, the API and the CLI."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.addresses import company_domain_name, email_address

GOOD_EMAILS = {
    "ana@acme.com": "ana@acme.com",
    " Ana.Ruiz+x@Acme.CO.uk ": "ana.ruiz+x@acme.co.uk",
    "ana@müller.de": "ana@müller.de",  # internationalized domains are accepted, as written
    "Ana@MÜLLER.de": "ana@müller.de",
    "ana@xn--mller-kva.de": "ana@xn--mller-kva.de",
    "jörg@acme.de": "jörg@acme.de",
}
BAD_EMAILS = ["notanemail", "ana@", "@acme.com", "ana@acme", "ana@@acme.com", "a b@acme.com",
              "ana@ac me.com", "ana@acme..com", "ana@acme.com.", "ana@müller", "ana@a_b.com",
              "ana@☃.", ""]  # fmt: skip


@pytest.mark.parametrize(("given_text", "kept"), GOOD_EMAILS.items())
def test_good_addresses_are_kept_lowercase(given_text: str, kept: str) -> None:
    assert email_address(given_text) == kept


@pytest.mark.parametrize("text", BAD_EMAILS)
def test_bad_addresses_are_refused_saying_so(text: str) -> None:
    with pytest.raises(ValueError, match="is not an e-mail address"):
        email_address(text)


@pytest.mark.parametrize(
    ("given_text", "bare"),
    [("acme.com", "acme.com"), ("https://www.Acme.com/pricing", "acme.com"),
     ("müller.de", "müller.de"), ("eu.acme.co.uk", "eu.acme.co.uk")],
)  # fmt: skip
def test_company_domains_are_kept_bare(given_text: str, bare: str) -> None:
    assert company_domain_name(given_text) == bare


@pytest.mark.parametrize("text", ["not a domain", "bad domain", "acme", "acme..com", "a_b.com", ""])
def test_what_is_no_domain_is_refused_saying_so(text: str) -> None:
    with pytest.raises(ValueError, match="is not a company domain"):
        company_domain_name(text)


@given(st.text(max_size=40))
def test_any_text_is_an_address_or_a_value_error(text: str) -> None:
    try:
        kept = email_address(text)
    except ValueError:
        return
    assert kept == email_address(kept)  # normalised once and for all
