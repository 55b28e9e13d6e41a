"""The account a person belongs to: by domain (subdomains folded, free-mail providers
ignored), else by company name matched fuzzily against the existing accounts.

`eu.acme.com` and `acme.com` are one company: a domain is folded to the part registered under
its public suffix (`shop.acme.co.uk` -> `acme.co.uk`), using the Public Suffix List that ships
with tldextract (never fetched at run time), private suffixes included, so `acme.github.io`
stays its own site.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache

from sqlalchemy.orm import Session

from leadflow.core.addresses import domain_of
from leadflow.core.companies import is_free_mail
from leadflow.core.company_match import Candidate, NameIndex, Verdict, by_domain
from leadflow.repositories import accounts as account_repo


@cache
def _extractor() -> object:
    import tldextract  # imported on first use: it loads the suffix list once

    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


# Hosts folded, remembered: most traffic comes from few companies, and senders choose the
# hosts (a tracking call's e-mail), so the memory it may take is bounded.
REMEMBERED = 65_536


@lru_cache(maxsize=REMEMBERED)
def registrable(host: str) -> str:
    """The domain a company registered: `eu.acme.com` -> `acme.com`; unknown shapes kept."""
    parts = _extractor()(host)  # type: ignore[operator]
    found = parts.top_domain_under_public_suffix
    return str(found) if found else host


def company_domain(value: str | None) -> str | None:
    """The company's domain from a domain, a URL or a business e-mail address."""
    host = domain_of(value)
    # Control characters or spaces make no domain (and would be trimmed away as a key).
    if not host or "." not in host or not host.isprintable() or " " in host:
        return None
    return registrable(host)


def business_domain(email: str | None) -> str | None:
    """The company domain of an e-mail address; None at a free-mail provider."""
    domain = company_domain(email) if email and "@" in email else None
    return None if domain is None or is_free_mail(domain) else domain


def domain_verdict(domain: str | None, *, given: bool) -> Verdict | None:
    """How a lead met its account by domain: a given domain or website, else its e-mail's."""
    return by_domain(domain, from_email=not given) if domain else None


def name_verdicts(session: Session, names: Iterable[str | None]) -> dict[str, Verdict]:
    """Each distinct company name matched against the existing accounts (`core.company_match`);
    names near no account are left out."""
    wanted = sorted({n for n in names if n and n.strip()})
    if not wanted:
        return {}
    index = NameIndex([Candidate(*row) for row in account_repo.names(session)])
    found = {name: index.match(name) for name in wanted}
    return {name: verdict for name, verdict in found.items() if verdict is not None}
