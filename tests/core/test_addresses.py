"""One definition of an e-mail address and a company domain, for imports, the API and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.addresses import company_domain_name, domain_of, email_address, email_identity
from leadflow.core.playbook import Playbook, Tier

B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"

GOOD_EMAILS = {
    "ana@acme.com": "ana@acme.com",
    " Ana.Ruiz+x@Acme.CO.uk ": "ana.ruiz+x@acme.co.uk",
    "ana@müller.de": "ana@müller.de",  # internationalized domains are accepted
    "Ana@MÜLLER.de": "ana@müller.de",
    "ana@xn--mller-kva.de": "ana@müller.de",  # in the one form domains are kept in
    "jörg@acme.de": "jörg@acme.de",
    "ana@acme.com.": "ana@acme.com",  # the DNS's final dot
}
BAD_EMAILS = ["notanemail", "ana@", "@acme.com", "ana@acme", "ana@@acme.com", "a b@acme.com",
              "ana@ac me.com", "ana@acme..com", "ana@acme.com..", "ana@müller", "ana@a_b.com",
              "ana@☃.", ""]  # fmt: skip


@pytest.mark.parametrize(("given_text", "kept"), GOOD_EMAILS.items())
def test_good_addresses_are_kept_lowercase(given_text: str, kept: str) -> None:
    assert email_address(given_text) == kept


ONE_PERSON = [
    "josé@müller.de",
    " José@Müller.DE ",
    "jose\u0301@müller.de",
    "josé@xn--mller-kva.de",
    "josé@MU\u0308LLER.de",
    "JOSÉ@ｍüｌｌｅｒ.de",
    "josé@müller.de.",
    "ｊｏｓé@müller.de",
]


@pytest.mark.parametrize("text", ONE_PERSON)
def test_one_address_whatever_way_it_is_written(text: str) -> None:
    # Before: case and blanks were folded, but a decomposed é, a punycode or fullwidth domain,
    # fullwidth letters or the DNS's final dot made another address, so another lead.
    assert email_address(text) == email_identity(text) == "josé@müller.de"


@pytest.mark.parametrize(
    ("one", "other"),
    [("a.b@gmail.com", "ab@gmail.com"), ("ab+news@gmail.com", "ab@gmail.com"),
     ("ana@www.acme.com", "ana@acme.com"), ("ana@eu.acme.com", "ana@acme.com"),
     ("straße@acme.de", "strasse@acme.de")],
)  # fmt: skip
def test_two_people_stay_two_addresses(one: str, other: str) -> None:
    assert email_address(one) != email_address(other)  # no provider's own rules are guessed


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


@pytest.mark.parametrize(
    "text",
    ["müller.de", "xn--mller-kva.de", "MÜLLER.DE", "mu\u0308ller.de", "bob@xn--mller-kva.de",
     "https://www.XN--MLLER-KVA.de/about", "ana@Müller.de"],
)  # fmt: skip
def test_one_domain_whatever_form_it_is_written_in(text: str) -> None:
    # Before: punycode, decomposed accents and the Unicode form were three domains, so the
    # people of one company could land on three accounts.
    assert domain_of(text) == "müller.de"
    assert company_domain_name(text.rsplit("@", 1)[-1]) == "müller.de"


def test_a_tier_lists_a_domain_in_either_form() -> None:
    tier = Tier(id="top", max_accounts=3, domains=["xn--mller-kva.de", " https://www.Acme.com/ "])
    assert tier.domains == ["müller.de", "acme.com"]  # the form accounts are kept in
    book = Playbook.model_validate(
        {**yaml.safe_load(B2B.read_text()), "tiers": [tier.model_dump()]}
    )
    for stored in ("müller.de", "xn--mller-kva.de", "ACME.com"):  # older accounts: as written
        assert book.tier_of(stored) is not None
