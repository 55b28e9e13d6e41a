"""A lead's company name matched against the existing accounts when no domain says which.

Names are compared normalised (`core.companies.normalised_name`: case, accents, punctuation
and legal forms such as Inc, GmbH or Ltd dropped), with RapidFuzz's token-sort ratio (word
order ignored, so `Traders Northwind` is `Northwind Traders`). A match at `LINK_AT` or
above links the lead, unless a second account scores within `TIE_WITHIN` of it: then the
name is ambiguous and nothing is linked. A best score between `NEAR_AT` and `LINK_AT` is
reported, not linked. Every verdict carries its confidence (the score over 100) and a reason
a person can check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from leadflow.core.companies import normalised_name

LINK_AT = 90.0
NEAR_AT = 80.0
TIE_WITHIN = 3.0
AMBIGUOUS = "ambiguous"  # the first word of a reason nobody was linked for
DOMAIN = "domain"
EMAIL_DOMAIN = "e-mail domain"
NAME = "company name"
MERGED = "merged"


@dataclass(frozen=True, slots=True)
class Candidate:
    """An existing account, as names are matched against it."""

    account_id: int
    name: str
    domain: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Which account a lead belongs to (None: none), how sure, and why."""

    account_id: int | None
    confidence: float | None
    reason: str


def by_domain(domain: str, *, from_email: bool) -> Verdict:
    """The verdict of a domain (given, from a website, or a business e-mail's)."""
    kind = EMAIL_DOMAIN if from_email else DOMAIN
    return Verdict(None, 1.0, f"{kind}: {domain}")


def _named(candidate: Candidate, score: float) -> str:
    return f"{candidate.name!r} ({candidate.domain}) {score:.0f}%"


class NameIndex:
    """The accounts' normalised names, built once for many lookups (an import)."""

    def __init__(self, accounts: Sequence[Candidate]) -> None:
        named = [(normalised_name(a.name), a) for a in accounts]
        named = [(n, a) for n, a in named if n]
        self._names = [n for n, _ in named]
        self._accounts = [a for _, a in named]

    def match(self, company: str | None) -> Verdict | None:
        """The verdict for a company name; None when no account is near it."""
        name = normalised_name(company)
        if not name or not self._names:
            return None
        found = process.extract(
            name, self._names, scorer=fuzz.token_sort_ratio, limit=5, score_cutoff=NEAR_AT
        )
        if not found:
            return None
        ranked = sorted(((s, self._accounts[k]) for _, s, k in found),
                        key=lambda x: (-x[0], x[1].account_id))  # fmt: skip
        best_score, best = ranked[0]
        rivals = [(s, a) for s, a in ranked[1:] if a.account_id != best.account_id]
        confidence = round(best_score / 100.0, 2)
        if rivals and rivals[0][0] >= best_score - TIE_WITHIN and best_score >= LINK_AT:
            listed = ", ".join(_named(a, s) for s, a in [ranked[0], *rivals[:2]])
            return Verdict(None, confidence, f"{AMBIGUOUS}: {company!r} is as near {listed}")
        if best_score < LINK_AT:
            near = _named(best, best_score)
            reason = f"{AMBIGUOUS}: {company!r} is only near {near} (links at {LINK_AT:.0f}%)"
            return Verdict(None, confidence, reason)
        how = "same name" if best_score >= 100.0 else "similar name"
        return Verdict(
            best.account_id, confidence, f"{NAME}: {company!r} ~ {_named(best, best_score)}, {how}"
        )
