"""What an e-mail address and a company domain are: one definition for every interface (pure).

Internationalized domains are accepted as people write them (`ana@müller.de`, lowercase): a
domain is valid when its IDNA (punycode) form is dotted labels of letters, digits and hyphens,
and is kept in its Unicode form whichever form it came in (`domain_of`), so one company is one
domain. An address is likewise kept in one form (`email_identity`), so one person is one lead.
Deliberately simple otherwise: one @, no spaces. Full RFC checks cost more per row than the rest
of an import; bouncing addresses are caught by the data-quality report.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

_ASCII_DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
_LOCAL = re.compile(r"[^@\s]+")


def domain_of(value: str | None) -> str | None:
    """A bare lowercase domain from a domain, a URL or an e-mail address."""
    if not value:
        return None
    text = value.strip().lower()
    text = text.rsplit("@", 1)[-1]
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0].split(":")[0]
    text = text.removeprefix("www.")
    return _one_form(text) or None


def _one_form(host: str) -> str:
    """An internationalized domain in the one form it is kept in, Unicode as people write it:
    `xn--mller-kva.de`, `MÜLLER.de` and a decomposed `ü` all give `müller.de` (IDNA's
    round trip: nameprep folds case and normalizes, then punycode labels are decoded). A host
    that is not a valid IDN is left as it is (and refused as a domain where one is required)."""
    if host.isascii() and "xn--" not in host:
        return host
    try:
        return host.encode("idna").decode("ascii").encode("ascii").decode("idna")
    except UnicodeError:
        return host


def is_domain(text: str) -> bool:
    """True for `acme.com`, `eu.acme.co.uk`, `müller.de`; lowercase input expected."""
    if _ASCII_DOMAIN.fullmatch(text):
        return True
    if text.isascii():
        return False
    try:  # IDNA 2003 (the standard library's): refuses labels that are empty or too long
        ascii_form = text.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return _ASCII_DOMAIN.fullmatch(ascii_form) is not None


def email_identity(value: str) -> str:
    """The one form an address is kept and looked up in, whichever way it was written: trimmed;
    the part before the @ lowercase, its fullwidth and halfwidth letters narrowed and its
    accents composed (NFC); the domain as `domain_of` keeps domains (`xn--` labels decoded,
    case and width folded) without a final dot. Nothing else is folded: dots and `+tags`
    stay, so `a.b@gmail.com` and `ab@gmail.com` are two people. Not a check (`email_address`)."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    local = local.lower()
    if not local.isascii():
        narrowed = "".join(
            unicodedata.normalize("NFKC", c) if unicodedata.east_asian_width(c) in "FH" else c
            for c in local
        )
        local = unicodedata.normalize("NFC", narrowed.lower())
    host = domain.lower()
    if host.endswith(".") and not host.endswith(".."):  # `acme.com.` is acme.com in the DNS
        host = host[:-1]
    return f"{local}@{_one_form(host)}"


def email_address(value: str) -> str:
    """The address in its one form (`email_identity`); ValueError `'x' is not an e-mail
    address`."""
    text = email_identity(value)
    local, at, domain = text.rpartition("@")
    if not (at and _LOCAL.fullmatch(local) and is_domain(domain)):
        raise ValueError(f"{value!r} is not an e-mail address")
    return text


def company_domain_name(value: str) -> str:
    """The bare domain of a domain or URL (`https://www.Acme.com/x` -> `acme.com`); ValueError
    `'x' is not a company domain`."""
    bare = domain_of(value)
    if bare is None or not is_domain(bare):
        raise ValueError(f"{value!r} is not a company domain")
    return bare


# For request bodies and rows: the value kept trimmed and lowercase, a bad one named by field.
Email = Annotated[str, Field(max_length=320), AfterValidator(email_address)]
Domain = Annotated[str, Field(min_length=3, max_length=200), AfterValidator(company_domain_name)]
