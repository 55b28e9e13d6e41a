""" "Who would get this lead?": the routing decision for a lead, or for facts made up to try
the rules, exactly as a hand-off would decide it now (nothing is assigned or stored)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import facts as core_facts
from leadflow.core.conditions import as_number
from leadflow.core.errors import Invalid
from leadflow.core.routing import route
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import reps as rep_repo
from leadflow.services import leads, playbooks
from leadflow.services import reps as rep_service

MAX_FACTS_TEXT = 5_000


@dataclass(frozen=True, slots=True)
class RoutePreview:
    """The team and rep a hand-off would pick now, why, and the facts it looked at."""

    team: str
    rep: str | None
    reason: str
    facts: dict[str, Any]


def for_lead(session: Session, key: str, now: datetime) -> RoutePreview:
    """The decision for a stored lead (its facts, account, tier and stored score)."""
    lead = leads.find(session, key)
    playbook = playbooks.active_playbook(session)
    facts = {**leads.facts_of(session, lead, playbook), **_score_facts(lead)}
    account = account_repo.get(session, lead.account_id) if lead.account_id else None
    owner = rep_repo.get_by_email(session, account.owner) if account and account.owner else None
    return _decide(session, facts, now, owner.id if owner else None)


def for_facts(session: Session, text: str, now: datetime) -> RoutePreview:
    """The decision for made-up facts, one `path: value` per line (e.g. `account.tier: top`),
    completed as a lead's are (`core.facts.typed_facts`: the tier of `account.domain`, say)."""
    facts = core_facts.typed_facts(playbooks.active_playbook(session), parse_facts(text))
    return _decide(session, facts, now, None)


def parse_facts(text: str) -> dict[str, Any]:
    """`path: value` lines as a flat mapping; Invalid names the line that is not one."""
    if len(text) > MAX_FACTS_TEXT:
        raise Invalid(f"facts: at most {MAX_FACTS_TEXT} characters")
    facts: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        path, colon, value = line.partition(":")
        if not colon or not path.strip() or " " in path.strip():
            raise Invalid(f"facts: line {number}: write `field: value`, e.g. `account.tier: top`")
        facts[path.strip()] = _value(value.strip())
    return facts


def _value(text: str) -> Any:
    """A number, true/false, a `[a, b]` list, nothing, or the text itself (so `NO`, the
    country, stays text: YAML would read it as false)."""
    if not text:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.startswith("[") and text.endswith("]"):
        return [_value(part.strip()) for part in text[1:-1].split(",") if part.strip()]
    number = as_number(text)
    return number if number is not None and math.isfinite(number) else text


def _score_facts(lead: Lead) -> dict[str, Any]:
    grade = lead.grade or "D4"
    return {
        "fit": lead.fit, "engagement": lead.engagement, "total": lead.total, "grade": grade,
        "fit_letter": grade[0], "engagement_digit": int(grade[1]), "persona": lead.persona,
    }  # fmt: skip


def _decide(
    session: Session, facts: Mapping[str, Any], now: datetime, account_owner: int | None
) -> RoutePreview:
    playbook = playbooks.active_playbook(session)
    decision = route(playbook.routing, facts, rep_service.states(session, now), now, account_owner)
    rep = rep_repo.get(session, decision.rep_id) if decision.rep_id is not None else None
    shown = f"{rep.name} <{rep.email}>" if rep else None
    return RoutePreview(team=decision.team, rep=shown, reason=decision.reason, facts=_shown(facts))


def _shown(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The facts with the account's under their paths (`account.tier`), as rules name them."""
    account = facts.get("account")
    if not isinstance(account, Mapping):
        return dict(facts)
    below = {f"account.{k}": v for k, v in account.items()}
    return {**{k: v for k, v in facts.items() if k != "account"}, **below}
