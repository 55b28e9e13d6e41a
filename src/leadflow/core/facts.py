"""The facts scoring reads: a lead's attributes, its account's, and its events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FREE_FORM = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EventFacts:
    """One event as scoring sees it; `id` is stable (database id or message id)."""

    id: str
    type: str
    occurred_at: datetime
    name: str | None = None
    properties: FREE_FORM = field(default_factory=dict)
    context: FREE_FORM = field(default_factory=dict)

    def as_facts(self) -> dict[str, Any]:
        """The event as a mapping for `where` conditions."""
        return {
            "type": self.type,
            "name": self.name,
            "properties": self.properties,
            "context": self.context,
        }


def email_domain(email: str | None) -> str | None:
    """The part after the @, lowercased."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def lead_facts(
    lead: FREE_FORM, account: FREE_FORM | None = None, tier: str | None = None
) -> dict[str, Any]:
    """Flatten a lead (custom traits under `attributes` lifted to the top) and nest its account."""
    facts: dict[str, Any] = dict(lead.get("attributes") or {})
    facts.update({k: v for k, v in lead.items() if k != "attributes" and v is not None})
    facts["email_domain"] = email_domain(facts.get("email"))
    account_facts: dict[str, Any] = {}
    if account:
        account_facts.update(account.get("attributes") or {})
        account_facts.update({k: v for k, v in account.items() if k != "attributes"})
    account_facts["tier"] = tier
    facts["account"] = account_facts
    return facts
