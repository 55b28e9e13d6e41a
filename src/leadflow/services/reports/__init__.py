"""The reports both teams read: one service each, used by the API, the CLI and the web pages.

`run(name, ...)` is the one entry point; `REPORTS` names them with a line on each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.periods import parse_period
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.repositories.reports import DIMENSIONS
from leadflow.services.reports import data_quality, funnel, revenue, team

REPORTS: dict[str, str] = {
    "funnel": "counts and conversion between stages, by month of entry",
    "conversion": f"conversion and revenue by --by ({', '.join(DIMENSIONS)})",
    "velocity": "days in each stage, days from lead to customer",
    "speed": "speed to lead, SLA compliance per rep and team, MQLs against the commitment",
    "quality": "recycle and disqualify reasons by source and campaign; lost reasons",
    "attribution": "won revenue by campaign: first touch, last touch, linear",
    "calibration": "win rate by score decile and the score's ROC-AUC",
    "cracks": "sales-ready leads with no owner or no touch past the SLA",
    "content": "what won leads consumed against lost ones; sales' questions and objections",
    "bottlenecks": "the steps where the funnel loses most against its own history",
    "data_quality": "missing fields, bad and bouncing e-mails, stale leads, likely duplicates",
}


@dataclass(frozen=True, slots=True)
class Options:
    """Everything a report may be asked for; each report reads what it needs."""

    period: str | None = None
    by: str = "source"
    history_months: int = 6
    stale_days: int = 90


def cohort_for(cohort: Cohort, period: str | None) -> Cohort:
    """The cohort narrowed to a period (`2026-11`, `2026-Q4`, `2026`), when one is given."""
    if period is None:
        return cohort
    try:
        start, end = parse_period(period)
    except ValueError as exc:
        raise Invalid(f"period: {exc}") from None
    return replace(cohort, since=start, until=end)


def _month_start(moment: datetime, back: int = 0) -> datetime:
    month = moment.year * 12 + moment.month - 1 - back
    return moment.replace(year=month // 12, month=month % 12 + 1, day=1, hour=0, minute=0,
                          second=0, microsecond=0)  # fmt: skip


def run(
    session: Session,
    playbook: Playbook,
    name: str,
    cohort: Cohort,
    options: Options,
    now: datetime,
) -> dict[str, Any]:
    """Compute one report; Invalid names an unknown report or option."""
    if name not in REPORTS:
        raise Invalid(f"unknown report {name!r}; one of {', '.join(REPORTS)}")
    cohort = cohort_for(cohort, options.period)
    start = cohort.since or _month_start(now)
    end = cohort.until or _month_start(now, -1)
    if name == "funnel":
        return funnel.funnel(session, cohort)
    if name == "conversion":
        if options.by not in DIMENSIONS:
            raise Invalid(f"by: unknown dimension {options.by!r}; one of {', '.join(DIMENSIONS)}")
        return funnel.conversion(session, cohort, options.by)
    if name == "velocity":
        return funnel.velocity(session, cohort)
    if name == "bottlenecks":
        if cohort.since is None:  # the last complete month against the months before it
            start, end = _month_start(now, 1), _month_start(now)
        history = [_month_start(start, options.history_months)]
        return funnel.bottlenecks(session, cohort, start, end, history)
    if name == "speed":
        return team.speed_to_lead(session, playbook, cohort, start, end)
    if name == "quality":
        return team.lead_quality(session, cohort)
    if name == "cracks":
        return team.fallen_through(session, playbook, cohort, now)
    if name == "attribution":
        return revenue.attribution(session, cohort)
    if name == "calibration":
        return revenue.calibration(session, cohort)
    if name == "content":
        return revenue.content(session, cohort)
    return data_quality.data_quality(session, playbook, cohort, now, options.stale_days)
