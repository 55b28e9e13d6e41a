"""Who a message is about: identify, alias and group applied to leads, identities and accounts.

Identity keys share one table: an anonymous id as it is, a user id as `user:<id>`. A lead is
found by its user id, else by its e-mail (its own, or one a merge folded into it:
`leads.get_by_email`), else by the anonymous id, and the keys a message
carries are all linked to it; the first link of a key wins, as a visitor is one person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from leadflow.core.facts import EventFacts
from leadflow.core.segment import USER_PREFIX, Message, previous_keys
from leadflow.core.single_line import MAX_NAME, one_line
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import claims, identities
from leadflow.repositories import leads as lead_repo
from leadflow.services.companies import business_domain, domain_verdict
from leadflow.services.ingest.traits import (
    account_fields,
    company_domain,
    do_not_track,
    lead_fields,
    with_attributes,
)


def identity_key(message: Message) -> str | None:
    """The key an event is filed under until its lead is known: anonymous id, else user id."""
    if message.anonymous_id:
        return message.anonymous_id
    return USER_PREFIX + message.user_id if message.user_id else None


class Identities:
    """Applies identity messages within one transaction; remembers the leads it changed."""

    def __init__(
        self, session: Session, now: datetime, declared: frozenset[str] = frozenset()
    ) -> None:
        self.session = session
        self.now = now
        self.declared = declared  # the playbook's custom fields: always kept on the lead
        self.changed: set[int] = set()
        # Events an anonymous id left before its lead was known, by the lead they became
        # (new to it: the stage step sees them as it sees new events).
        self.attributed: dict[int, list[EventFacts]] = {}
        self.left: set[int] = set()  # accounts a group call moved a lead away from
        # Accounts whose empty columns a message's traits filled in: their people's facts
        # changed, so they are scored again, as a re-score would score them.
        self.filled: set[int] = set()

    def claim_and_lock(self, messages: Sequence[Message]) -> None:
        """Claim every name these messages may create (visitor ids, e-mails, company domains)
        and lock every stored lead they name, each in one global order, before changing any:
        two batches about the same people then take turns instead of deadlocking, and a
        merge folding one of their addresses in is waited for, then seen."""
        keys = {k for m in messages for k in _keys(m)}
        keys |= {p for m in messages if m.previous_id for p in previous_keys(m.previous_id)}
        emails = {e for m in messages if (e := m.email())}
        domains = {d for m in messages for d in _domains(m)}
        claims.claim_people(self.session, emails=emails, keys=keys, domains=domains)
        found = set(identities.leads_for(self.session, keys).values())
        found |= set(lead_repo.ids_by_email(self.session, emails).values())
        lead_repo.get_many(self.session, found, lock=True)

    def apply(self, message: Message) -> None:
        """Apply an identify, alias or group message."""
        if message.type == "identify":
            self.identify(message)
        elif message.type == "alias":
            self.alias(message)
        elif message.type == "group":
            self.group(message)

    def find(self, message: Message) -> Lead | None:
        """The lead this message's ids or e-mail already point at."""
        session = self.session
        if message.user_id:
            lead_id = identities.lead_for_anonymous(session, USER_PREFIX + message.user_id)
            if lead_id is not None:
                return lead_repo.get(session, lead_id, lock=True)
        email = message.email()
        if email:
            lead = lead_repo.get_by_email(session, email, lock=True)
            if lead is not None:
                return lead
        if message.anonymous_id:
            lead_id = identities.lead_for_anonymous(session, message.anonymous_id)
            if lead_id is not None:
                return lead_repo.get(session, lead_id, lock=True)
        return None

    def _new_lead(self, message: Message) -> Lead:
        """A lead for a message no stored lead matches, or the one another transaction has just
        created for the same e-mail or ids (this one waits for it, then takes its lead), so
        concurrent writers never fail on a unique key nor leave a duplicate lead."""
        email = message.email()
        if email:
            return lead_repo.get_or_create(self.session, email, created_at=self.now)[0]
        lead = lead_repo.create(self.session, created_at=self.now)
        for key in _keys(message):
            owner = identities.link(self.session, anonymous_id=key, lead_id=lead.id, at=self.now)
            if owner != lead.id:  # another writer named this visitor first: its lead it is
                lead_repo.delete_new(self.session, lead)
                found = lead_repo.get(self.session, owner, lock=True)
                assert found is not None
                return found
        return lead

    def identify(self, message: Message) -> None:
        """Find or create the lead, update it from the traits, and merge its anonymous past."""
        email = message.email()
        lead = self.find(message) or self._new_lead(message)
        if email and lead.email is None:
            lead_repo.claim_email(self.session, lead, email)
        columns, extra = lead_fields(message.traits)
        changed = any(getattr(lead, k) != v for k, v in columns.items())
        for column, value in columns.items():
            setattr(lead, column, value)
        consent = do_not_track(message.traits)
        if consent is not None and consent != lead.do_not_track:
            lead.do_not_track, changed = consent, True
        if extra:
            attributes = with_attributes(lead.attributes or {}, extra, self.declared)
            if attributes != (lead.attributes or {}):
                lead.attributes, changed = attributes, True
        self._first_touch(lead, message)
        if lead.account_id is None:
            company = message.traits.get("company")
            traits = company if isinstance(company, dict) else {}
            given = company_domain(traits)
            domain = given or business_domain(lead.email)
            if domain:
                fields = account_fields(traits)
                if isinstance(company, str) and (name := one_line(company, MAX_NAME)):
                    fields.setdefault("name", name)
                lead.account_id = self._account(domain, fields)
                _matched(lead, domain, given=given is not None)
                changed = True
        if changed:
            lead.updated_at = self.now
        self._link(message, lead.id)
        self.changed.add(lead.id)

    def known_by_email(self, message: Message) -> int:
        """The lead with the message's e-mail, created when new, linked to its ids."""
        email = message.email() or ""
        lead, created = lead_repo.get_or_create(self.session, email, created_at=self.now)
        if created:
            domain = business_domain(email)
            lead.account_id = (
                account_repo.id_for_domain(self.session, domain, self.now) if domain else None
            )
            _matched(lead, domain, given=False)
        self._link(message, lead.id)
        self.changed.add(lead.id)
        return lead.id

    def alias(self, message: Message) -> None:
        """Link the previous id to the lead of the new user id (creating it when unknown)."""
        lead = self.find(message)
        previous = message.previous_id or ""
        if lead is None:
            owner = identities.lead_for_anonymous(self.session, previous)
            owner = owner or identities.lead_for_anonymous(self.session, USER_PREFIX + previous)
            if owner is None:
                lead = self._new_lead(message)
            else:
                lead = lead_repo.get(self.session, owner, lock=True)
        assert lead is not None
        self._link(message, lead.id)
        for key in previous_keys(previous):
            self._link_key(key, lead.id)
        self.changed.add(lead.id)

    def group(self, message: Message) -> None:
        """Attach the lead to the account the group names (by domain), creating it if new."""
        lead = self.find(message)
        domain = company_domain(message.traits, message.group_id)
        if lead is None or domain is None:
            return  # stored as an event; nothing to attach without a lead and a domain
        account_id = self._account(domain, account_fields(message.traits))
        if lead.account_id != account_id:
            if lead.account_id is not None:
                self.left.add(lead.account_id)
            lead.account_id = account_id
            _matched(lead, domain, given=True)
            lead.updated_at = self.now
        self._link(message, lead.id)
        self.changed.add(lead.id)

    def _account(self, domain: str, fields: dict[str, object]) -> int:
        row = {"domain": domain, "name": domain, **fields}
        fills = bool(fields) and bool(account_repo.filled_in(self.session, [row]))
        row.update(created_at=self.now, updated_at=self.now)
        account_repo.upsert_many(self.session, [row], fill_only=True)
        account_id = account_repo.ids_by_domain(self.session, [domain])[domain]
        if fills:
            self.filled.add(account_id)
        return account_id

    def _first_touch(self, lead: Lead, message: Message) -> None:
        campaign = message.context.get("campaign")
        if lead.source is None and isinstance(campaign, dict):
            lead.source = _text(campaign.get("source"))
            lead.medium = _text(campaign.get("medium"))
            lead.campaign = _text(campaign.get("name"))

    def _link(self, message: Message, lead_id: int) -> None:
        if message.anonymous_id:
            self._link_key(message.anonymous_id, lead_id)
        if message.user_id:
            self._link_key(USER_PREFIX + message.user_id, lead_id)

    def _link_key(self, key: str, lead_id: int) -> None:
        owner = identities.link(self.session, anonymous_id=key, lead_id=lead_id, at=self.now)
        if owner != lead_id:
            return
        moved = identities.reassign_events(self.session, anonymous_id=key, lead_id=lead_id)
        if moved:
            self.changed.add(lead_id)
            self.attributed.setdefault(lead_id, []).extend(moved)


def _keys(message: Message) -> list[str]:
    """The identity keys a message carries: its anonymous id, then its user id."""
    keys = [message.anonymous_id] if message.anonymous_id else []
    return [*keys, USER_PREFIX + message.user_id] if message.user_id else keys


def _domains(message: Message) -> list[str]:
    """The company domains a message may create an account for."""
    company = message.traits.get("company")
    found = [
        company_domain(company if isinstance(company, dict) else {}),
        company_domain(message.traits, message.group_id),
        business_domain(message.email()),
    ]
    return [d for d in found if d]


def _text(value: object) -> str | None:
    return one_line(value, MAX_NAME) or None if isinstance(value, str) else None


def _matched(lead: Lead, domain: str | None, *, given: bool) -> None:
    """Keep on the lead how it met its account (`services.companies`)."""
    verdict = domain_verdict(domain, given=given)
    if verdict is not None:
        lead.account_confidence, lead.account_reason = verdict.confidence, verdict.reason
