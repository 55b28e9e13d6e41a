"""The reports both teams read: one service each, used by the API, the CLI and the web pages.

`run(name, ...)` is the one entry point; `REGISTRY` maps each name to its service, and
`REPORTS` names them with a line on each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.periods import FIRST_YEAR, LAST_YEAR, parse_period
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.repositories.reports import DIMENSIONS
from leadflow.services.reports import data_quality, drift, funnel, revenue, team

TICK = timedelta(microseconds=1)  # the last instant before a bound


@dataclass(frozen=True, slots=True)
class Options:
    """Everything a report may be asked for; each report reads what it needs."""

    period: str | None = None
    by: str = "source"
    history_months: int = 6
    stale_days: int = 90
    half_life_days: float = 7.0  # time-decay attribution
    limit: int = team.CRACKS_SHOWN  # the cracks: how many rows to show, from `offset`
    offset: int = 0


def cohort_for(cohort: Cohort, period: str | None) -> Cohort:
    """The cohort narrowed to a period (`2026-11`, `2026-Q4`, `2026`), when one is given;
    Invalid when it ends before it starts (it would count no lead, and say nothing), or
    when a bound is in a year a period could not be in (reports count months around it)."""
    since, until = cohort.since, cohort.until
    for name, bound in (("since", since), ("until", until)):
        if bound is not None and not FIRST_YEAR <= bound.year <= LAST_YEAR:
            raise Invalid(f"{name}: year {bound.year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    if since is not None and until is not None and since >= until:
        raise Invalid(f"since: {since.date()} is not before until: {until.date()}")
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


@dataclass(frozen=True, slots=True)
class Asked:
    """What a report is computed from: the cohort (period applied), options and the clock."""

    session: Session
    playbook: Playbook
    cohort: Cohort
    options: Options
    now: datetime

    @property
    def span(self) -> tuple[datetime, datetime]:
        """[start, end) of the period: the cohort's, else this month; with only an end, the
        month that ends there (its start, when the end is no month's first instant)."""
        since, until = self.cohort.since, self.cohort.until
        if since is None:
            since = _month_start(until - TICK) if until is not None else _month_start(self.now)
        return since, until or _month_start(self.now, -1)


@dataclass(frozen=True, slots=True)
class Report:
    """One report: a line saying what it shows, and the service computing it."""

    description: str
    compute: Callable[[Asked], dict[str, Any]]


def _conversion(a: Asked) -> dict[str, Any]:
    if a.options.by not in DIMENSIONS:
        raise Invalid(f"by: unknown dimension {a.options.by!r}; one of {', '.join(DIMENSIONS)}")
    return funnel.conversion(a.session, a.cohort, a.options.by)


def _bottlenecks(a: Asked) -> dict[str, Any]:
    start, end = a.span
    if a.cohort.since is None and a.cohort.until is None:
        # the last complete month against the months before it
        start, end = _month_start(a.now, 1), _month_start(a.now)
    history = [_month_start(start, a.options.history_months)]
    return funnel.bottlenecks(a.session, a.cohort, start, end, history)


# The registry: the CLI, the API and the pages look reports up here, by name.
REGISTRY: dict[str, Report] = {
    "funnel": Report(
        "counts and conversion between stages, by month of entry",
        lambda a: funnel.funnel(a.session, a.cohort),
    ),
    "conversion": Report(f"conversion and revenue by --by ({', '.join(DIMENSIONS)})", _conversion),
    "velocity": Report(
        "days in each stage, days from lead to customer",
        lambda a: funnel.velocity(a.session, a.cohort),
    ),
    "speed": Report(
        "speed to lead, SLA compliance per rep and team, MQLs against the commitment",
        lambda a: team.speed_to_lead(a.session, a.playbook, a.cohort, *a.span),
    ),
    "quality": Report(
        "recycle and disqualify reasons by source and campaign; lost reasons",
        lambda a: team.lead_quality(a.session, a.cohort),
    ),
    "attribution": Report(
        "won revenue by campaign: first and last touch, linear, U- and W-shaped, time-decay",
        lambda a: revenue.attribution(a.session, a.cohort, a.options.half_life_days),
    ),
    "cohorts": Report(
        "the funnel by month of creation: how far each month's leads got, and their rates",
        lambda a: funnel.cohorts(a.session, a.cohort),
    ),
    "calibration": Report(
        "win rate by score decile and the score's ROC-AUC",
        lambda a: revenue.calibration(a.session, a.cohort),
    ),
    "drift": Report(
        "the served model's predicted against actual win rate by decile, this period "
        "(default: this month) beside its validation, with a verdict",
        lambda a: drift.drift(a.session, a.cohort, *a.span),
    ),
    "cracks": Report(
        "sales-ready leads with no owner or no touch past the SLA",
        lambda a: team.fallen_through(
            a.session, a.playbook, a.cohort, a.now, a.options.limit, a.options.offset
        ),
    ),
    "content": Report(
        "what won leads consumed against lost ones; sales' questions and objections",
        lambda a: revenue.content(a.session, a.cohort),
    ),
    "bottlenecks": Report(
        "the steps where the funnel loses most against its own history", _bottlenecks
    ),
    "data_quality": Report(
        "missing fields, bad and bouncing e-mails, stale leads, likely duplicates",
        lambda a: data_quality.data_quality(
            a.session, a.playbook, a.cohort, a.now, a.options.stale_days
        ),
    ),
}
REPORTS: dict[str, str] = {name: report.description for name, report in REGISTRY.items()}


def run(
    session: Session,
    playbook: Playbook,
    name: str,
    cohort: Cohort,
    options: Options,
    now: datetime,
) -> dict[str, Any]:
    """Compute one report; Invalid names an unknown report or option."""
    report = REGISTRY.get(name)
    if report is None:
        raise Invalid(f"unknown report {name!r}; one of {', '.join(REGISTRY)}")
    return report.compute(
        Asked(session, playbook, cohort_for(cohort, options.period), options, now)
    )
