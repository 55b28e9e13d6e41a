"""Account scoring: the account's own fit plus the engagement of its whole buying group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leadflow.core.playbook import Playbook
from leadflow.core.scoring import Contribution, fit_contributions, points_sum

ACCOUNT_PREFIX = "account."


@dataclass(frozen=True, slots=True)
class AccountScore:
    """Fit of the company, engagement of its people together, and how many are engaged."""

    fit: float
    engagement: float
    total: float
    engaged_leads: int
    leads: int
    contributions: tuple[Contribution, ...]


def account_only(playbook: Playbook) -> Playbook:
    """The playbook with only the fit rules that read nothing but account facts."""
    rules = [
        rule
        for rule in playbook.fit.rules
        if rule.fields() and all(f.startswith(ACCOUNT_PREFIX) for f in rule.fields())
    ]
    return playbook.model_copy(update={"fit": playbook.fit.model_copy(update={"rules": rules})})


def score_account(
    playbook: Playbook,
    account: Mapping[str, Any],
    lead_engagements: Sequence[float],
    account_playbook: Playbook | None = None,
) -> AccountScore:
    """Score an account from its facts and its leads' engagement scores."""
    scoped = account_playbook or account_only(playbook)
    fit_part = fit_contributions(scoped, {"account": account})
    settings = playbook.account_scoring
    engaged = sum(1 for e in lead_engagements if e >= settings.engaged_min_engagement)
    group = points_sum(e for e in lead_engagements if e > 0)
    if settings.engagement_cap is not None:
        group = min(group, settings.engagement_cap)
    fit = points_sum(c.points for c in fit_part)
    contributions = (
        *fit_part,
        Contribution(
            "buying_group",
            "Engagement of the buying group",
            "engagement",
            group,
            detail=f"{engaged} of {len(lead_engagements)} people engaged",
        ),
    )
    return AccountScore(
        fit=fit,
        engagement=group,
        total=points_sum(c.points for c in contributions),
        engaged_leads=engaged,
        leads=len(lead_engagements),
        contributions=contributions,
    )
