"""An account's score from its roll-up: leads' positive engagement summed in hundredths.

Every lead's engagement is a sum rounded to the hundredth, so the buying group's exactly
rounded sum (`score_account`) is the integer sum of hundredths over 100, as long as the
rounding errors of the leads' floats (under 2**-53 of each value) add up to less than half a
hundredth: always, short of billions of leads. So the roll-up is kept as integers and updated
by differences, and an account with 10,000 leads costs what a small one does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadflow.core.accounts import AccountScore
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import Contribution, fit_contributions, points_sum


def hundredths(engagement: float) -> int:
    """What a lead's engagement adds to its buying group, in hundredths (only positive counts)."""
    return round(engagement * 100) if engagement > 0 else 0


def engaged(playbook: Playbook, engagement: float) -> bool:
    """Whether the lead counts as engaged for its account."""
    return engagement >= playbook.account_scoring.engaged_min_engagement


def score_rollup(
    playbook: Playbook,
    account: Mapping[str, Any],
    total_hundredths: int,
    engaged_leads: int,
    leads: int,
    account_playbook: Playbook,
) -> AccountScore:
    """`score_account` from the roll-up: the same figures, without the leads' engagements."""
    fit_part = fit_contributions(account_playbook, {"account": account})
    group = total_hundredths / 100 + 0.0
    cap = playbook.account_scoring.engagement_cap
    if cap is not None:
        group = min(group, cap)
    contributions = (
        *fit_part,
        Contribution(
            "buying_group",
            "Engagement of the buying group",
            "engagement",
            group,
            detail=f"{engaged_leads} of {leads} people engaged",
        ),
    )
    return AccountScore(
        fit=points_sum(c.points for c in fit_part),
        engagement=group,
        total=points_sum(c.points for c in contributions),
        engaged_leads=engaged_leads,
        leads=leads,
        contributions=contributions,
    )
