"""Accounts: list them by score, show one with its buying group, create and update them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import company_match
from leadflow.core.addresses import domain_of
from leadflow.core.errors import Invalid, NotFound
from leadflow.core.limits import as_id
from leadflow.core.playbook import Playbook
from leadflow.models.account import Account
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import leads as lead_repo
from leadflow.services import audit, leads
from leadflow.services.companies import company_domain
from leadflow.services.leads import LeadFilter
from leadflow.services.pipeline import run_accounts, run_live


def summary(account: Account) -> dict[str, Any]:
    """The fields every account listing carries."""
    return {
        "id": account.id,
        "domain": account.domain,
        "name": account.name,
        "industry": account.industry,
        "employees": account.employees,
        "annual_revenue": account.annual_revenue,
        "country": account.country,
        "owner": account.owner,
        "tier": account.tier,
        "fit": account.fit,
        "engagement": account.engagement,
        "total": account.total,
        "engaged_leads": account.engaged_leads,
        "attributes": account.attributes or {},
    }


def page(
    session: Session, *, tier: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of accounts, highest score first, and how many match."""
    rows, total = account_repo.list_page(session, tier=tier, limit=limit, offset=offset)
    return [summary(a) for a in rows], total


def find(session: Session, key: str) -> Account:
    """An account by id or domain, or NotFound naming the key."""
    number = as_id(key)
    account = (
        account_repo.get(session, number)
        if number is not None
        else account_repo.get_by_domain(session, domain_of(key) or key)
    )
    if account is None:
        raise NotFound(f"no account with {'id' if number is not None else 'domain'} {key!r}")
    return account


def detail(session: Session, key: str) -> dict[str, Any]:
    """One account with its people (the buying group), highest score first. A domain finds
    the account its people join: a subdomain or website folded (`eu.acme.com` is acme.com),
    a merged account's domain the account it joined."""
    domain = company_domain(key) if as_id(key) is None else None
    joined = account_repo.get_by_domain_or_alias(session, domain) if domain else None
    account = joined or find(session, key)
    people, count = leads.page(
        session, LeadFilter(account_id=account.id), sort="total", limit=200, offset=0
    )
    return {**summary(account), "leads": people, "lead_count": count}


def upsert(
    session: Session, playbook: Playbook, fields: dict[str, Any], *, now: datetime
) -> tuple[Account, bool]:
    """Create or update the account by domain and re-score its leads; (account, created).
    A merged account's domain updates the account it joined, and a subdomain the company
    registered under its public suffix, as imports and edits do (where its people are)."""
    domain = company_domain(fields["domain"]) or domain_of(fields["domain"]) or fields["domain"]
    existing = account_repo.get_by_domain_or_alias(session, domain)
    row = {**fields, "domain": domain, "updated_at": now}
    if existing is None:
        row.update(created_at=now, name=fields.get("name") or domain)
    if "attributes" in row and existing is not None:
        row["attributes"] = {**(existing.attributes or {}), **(row["attributes"] or {})}
    account_repo.upsert_many(session, [row])
    account = account_repo.get_by_domain_or_alias(session, domain)
    assert account is not None
    session.refresh(account)
    people = lead_repo.ids_at_accounts(session, [account.id])
    if people:
        run_live(session, playbook, people, now, cause="edit")
    else:  # no lead to score: the account is scored by itself, as a re-score scores it
        run_accounts(session, playbook, [account.id], now, actor="edit")
    return account, existing is None


AMBIGUOUS_BELOW = 0.95  # a name linked at less is listed for a person to check


def ambiguous(session: Session) -> list[dict[str, Any]]:
    """Leads whose company name matched no account for sure: ambiguous or only near (not
    linked), or linked by a similar (not the same) name."""
    prefixes = [f"{company_match.AMBIGUOUS}:", f"{company_match.NAME}:"]
    rows = account_repo.ambiguous_leads(session, prefixes, AMBIGUOUS_BELOW)
    return [
        {"lead_id": r.id, "email": r.email, "account_id": r.account_id, "account": r.domain,
         "confidence": r.account_confidence, "reason": r.account_reason}
        for r in rows
    ]  # fmt: skip


def merge(
    session: Session, playbook: Playbook, source_key: str, target_key: str, *, actor: str,
    now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """Move every lead of account A to account B, remove A, re-score the moved leads; A's
    domain leads to B from now on; the audit log keeps who merged what."""
    source, target = find(session, source_key), find(session, target_key)
    if source.id == target.id:
        raise Invalid(f"account {source_key!r} and {target_key!r} are the same account")
    reason = f"{company_match.MERGED}: account {source.domain} merged into {target.domain}"
    moved = account_repo.move_leads(session, source.id, target.id, reason)
    details = {"from": source.id, "from_domain": source.domain, "leads": len(moved)}
    account_repo.keep_alias(session, source, target.id, now)  # later arrivals join target
    account_repo.delete(session, source)
    run_live(session, playbook, moved, now, cause="account merge")
    audit.record(session, actor=actor, action="account.merge", target=f"account:{target.id}",
                 details=details, now=now)  # fmt: skip
    lost = _tier_lost(playbook, source.domain, target.domain)
    return {"account_id": target.id, "domain": target.domain, "merged_from": source.domain,
            "leads_moved": len(moved), "tier_lost": lost[0], "note": lost[1]}  # fmt: skip


def _tier_lost(playbook: Playbook, source: str, target: str) -> tuple[str | None, str]:
    """The tier the merged-away domain was in that the account it joined is not, and what to
    do about it: tiers are the playbook's list of domains, which a merge does not change."""
    was, now = playbook.tier_of(source), playbook.tier_of(target)
    if was is None or (now is not None and now.id == was.id):
        return None, ""
    where = f"in tier {now.id!r}" if now is not None else "in no tier"
    return was.id, (
        f"{source} is in tier {was.id!r} and {target} is {where}: its leads now score and route "
        f"as {target}'s; add {target} to the tier in the playbook to keep them there"
    )
