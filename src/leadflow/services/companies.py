"""The account a person belongs to, by domain: subdomains folded, free-mail providers ignored.

`eu.acme.com` and `acme.com` are one company: a domain is folded to the part registered under
its public suffix (`shop.acme.co.uk` -> `acme.co.uk`), using the Public Suffix List that ships
with tldextract (never fetched at run time), private suffixes included, so `acme.github.io`
stays its own site.
"""

from __future__ import annotations

from functools import cache

from leadflow.core.companies import is_free_mail
from leadflow.core.records import domain_of


@cache
def _extractor() -> object:
    import tldextract  # imported on first use: it loads the suffix list once

    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@cache
def registrable(host: str) -> str:
    """The domain a company registered: `eu.acme.com` -> `acme.com`; unknown shapes kept."""
    parts = _extractor()(host)  # type: ignore[operator]
    found = parts.top_domain_under_public_suffix
    return str(found) if found else host


def company_domain(value: str | None) -> str | None:
    """The company's domain from a domain, a URL or a business e-mail address."""
    host = domain_of(value)
    if not host or "." not in host or " " in host:
        return None
    return registrable(host)


def business_domain(email: str | None) -> str | None:
    """The company domain of an e-mail address; None at a free-mail provider."""
    domain = company_domain(email) if email and "@" in email else None
    return None if domain is None or is_free_mail(domain) else domain
