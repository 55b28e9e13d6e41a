"""Create and edit leads by hand or from another tool; every edit is scored at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.addresses import email_identity
from leadflow.core.errors import Conflict, Invalid
from leadflow.core.playbook import Playbook
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import claims
from leadflow.repositories import leads as lead_repo
from leadflow.services import leads, reassign
from leadflow.services.companies import (
    business_domain,
    company_domain,
    domain_verdict,
    name_verdicts,
)
from leadflow.services.pipeline import run_live

LEAD_COLUMNS = (
    "first_name",
    "last_name",
    "title",
    "phone",
    "country",
    "source",
    "medium",
    "campaign",
)
COMPANY_FIELDS = ("company", "domain", "website", "employees", "industry")


def create_lead(
    session: Session,
    playbook: Playbook,
    fields: dict[str, Any],
    *,
    now: datetime,
    actor: str = "system",
) -> Lead:
    """A new lead (Conflict when the e-mail exists), linked to its company and scored."""
    email = email_identity(str(fields["email"]))
    # As tracking does before it makes a lead: a merge folding the address in is waited for.
    claims.claim_people(session, emails=[email], domains=_domains_of(fields, email))
    lead, created = lead_repo.get_or_create(session, email, created_at=now, updated_at=now)
    if not created:
        named = "" if lead.email == email else f" (merged into the lead {lead.email})"
        raise Conflict(f"a lead with e-mail {email} exists{named}; update it with PATCH instead")
    return update_lead(session, playbook, lead, fields, now=now, actor=actor)


def update_lead(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    fields: dict[str, Any],
    *,
    now: datetime,
    actor: str = "system",
) -> Lead:
    """Set the given fields (attributes merged key by key; null removes one) and re-score; a
    new `owner` takes the hand-off waiting for its first touch (`reassign.change_owner`)."""
    for column in LEAD_COLUMNS:
        if column in fields:
            setattr(lead, column, fields[column])
    if fields.get("do_not_track") is not None:
        lead.do_not_track = bool(fields["do_not_track"])
    if fields.get("attributes"):
        merged = {**(lead.attributes or {}), **fields["attributes"]}
        lead.attributes = {k: v for k, v in merged.items() if v is not None}
    company = {k: fields[k] for k in COMPANY_FIELDS if fields.get(k) is not None}
    was_at, wrote_account = lead.account_id, False
    if company or (lead.account_id is None and business_domain(lead.email)):
        lead.account_id, wrote_account = _account_for(session, lead, company, now)
    lead.updated_at = now
    session.flush()
    rescored = [lead.id]
    if wrote_account and lead.account_id is not None:
        # The account's own facts were sent: its other people score on them too, as an edit
        # of the account itself (`accounts.upsert`) and a re-score score them.
        rescored += lead_repo.ids_at_accounts(session, [lead.account_id])
    left = [was_at] if was_at is not None and was_at != lead.account_id else []
    run_live(session, playbook, rescored, now, cause="edit", left_accounts=left)
    if "owner" in fields:
        # After the re-score: a hand-off it made goes to the owner named, whose alert tells
        # the score as it now is.
        reassign.change_owner(session, playbook, lead, fields["owner"], actor=actor, now=now)
    return lead


def _domains_of(fields: dict[str, Any], email: str) -> list[str]:
    """The company domains a new lead's fields may make an account for."""
    found = [company_domain(fields.get(name)) for name in ("domain", "website")]
    return [d for d in [*found, business_domain(email)] if d]


def _account_for(
    session: Session, lead: Lead, company: dict[str, Any], now: datetime
) -> tuple[int | None, bool]:
    """The account by a given domain or website, else the e-mail's, else the company name
    matched against existing accounts (how it was found is kept on the lead); and whether
    the account's own fields were written."""
    given = company_domain(company.get("domain")) or company_domain(company.get("website"))
    domain = given or business_domain(lead.email)
    if domain is None:
        return _account_by_name(session, lead, company.get("company")), False
    verdict = domain_verdict(domain, given=given is not None)
    assert verdict is not None
    lead.account_confidence, lead.account_reason = verdict.confidence, verdict.reason
    wrote = _write_account(session, domain, company, now)
    return account_repo.ids_by_domain(session, [domain])[domain], wrote


def _write_account(session: Session, domain: str, company: dict[str, Any], now: datetime) -> bool:
    """Make the account when new (named by its domain), then overwrite only what was sent:
    a domain or website alone never renames an account (nor the one a merged domain joined).
    Whether any of its fields was sent."""
    new = {"domain": domain, "name": domain, "created_at": now, "updated_at": now}
    account_repo.upsert_many(session, [new], fill_only=True)
    sent: dict[str, Any] = {k: company[k] for k in ("employees", "industry") if k in company}
    if company.get("company"):
        sent["name"] = company["company"]
    if sent:
        account_repo.upsert_many(session, [{"domain": domain, **sent, "updated_at": now}])
    return bool(sent)


def _account_by_name(session: Session, lead: Lead, name: str | None) -> int | None:
    verdict = name_verdicts(session, [name]).get(name or "")
    if verdict is None:
        raise Invalid(
            "domain: needed to link a company (the e-mail is a free-mail address"
            + (f" and no account's name is near {name!r})" if name else ")")
        )
    lead.account_confidence, lead.account_reason = verdict.confidence, verdict.reason
    return verdict.account_id if verdict.account_id is not None else lead.account_id


def find(session: Session, key: str) -> Lead:
    """A lead by id or e-mail (NotFound names the key)."""
    return leads.find(session, key)
