"""Funnel, conversion by dimension, velocity and bottlenecks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.report_math import (
    REPORT_FUNNEL,
    SMALL_SAMPLE,
    Cohort,
    Rate,
    reached_counts,
    step_rates,
)
from leadflow.core.stages import FUNNEL, Stage
from leadflow.repositories import reports as queries
from leadflow.services.reports import stage_time
from leadflow.services.reports.base import share, table

COHORT_NOTE = (
    "Cohort: leads created in the period (all leads without one), after the other filters. "
    "A lead counts as reaching a stage when it got that far or further at any time, so a demo "
    "request that skipped MQL still passed it; recycled and disqualified leads keep the "
    "furthest stage they reached."
)


# Dimensions whose values have an order of their own; the others are ranked by revenue.
NATURAL_ORDER = frozenset({"score_band", "grade", "period"})


def _reached(rows: list[tuple[Any, int, int, float]]) -> tuple[dict[Stage, int], float]:
    by_rank: dict[int, int] = defaultdict(int)
    revenue = 0.0
    for _, rank, count, amount in rows:
        by_rank[rank] += count
        revenue += amount
    return reached_counts(by_rank), revenue


def funnel(session: Session, cohort: Cohort) -> dict[str, Any]:
    """How many cohort leads reached each stage, the conversion from each to the next, and
    the same by month of entry."""
    return _funnel(cohort, queries.furthest_by(session, cohort, "period"))


def overview(
    session: Session, cohort: Cohort, bys: list[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """`funnel` and `conversions` by several dimensions from one pass over the leads (the
    dashboard shows both)."""
    _known(bys)
    rows = queries.furthest_by_many(session, cohort, ["period", *bys])
    by_month = [(g[0], *rest) for g, *rest in rows]
    return _funnel(cohort, by_month), {
        by: _conversion(cohort, by, [(g[k + 1], *rest) for g, *rest in rows])
        for k, by in enumerate(bys)
    }


def _funnel(cohort: Cohort, by_month: list[tuple[Any, int, int, float]]) -> dict[str, Any]:
    """The funnel report from (month, furthest rank, leads, revenue) rows: one pass gives
    both views."""
    reached, revenue = _reached(by_month)
    rates = step_rates(reached)
    first = reached[REPORT_FUNNEL[0]]
    rows = [
        {
            "stage": stage.value,
            "reached": reached[stage],
            "to_next": rates[stage].value if stage in rates else None,
            "n": rates[stage].n if stage in rates else None,
            "small_sample": rates[stage].small_sample if stage in rates else None,
            "of_leads": share(reached[stage], first),
        }
        for stage in REPORT_FUNNEL
    ]
    periods: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for month, rank, count, _ in by_month:
        periods[str(month)][rank] += count
    by_period = [
        {"period": month, **{s.value: n for s, n in reached_counts(ranks).items()}}
        for month, ranks in sorted(periods.items())
    ]
    return table(
        "funnel", "Funnel", COHORT_NOTE + " `to_next` = reached the next stage / reached this one "
        f"(n is that denominator; small_sample when n < {SMALL_SAMPLE}).",
        cohort, ["stage", "reached", "to_next", "n", "small_sample", "of_leads"], rows,
        by_period=by_period, revenue=round(revenue, 2),
    )  # fmt: skip


def cohorts(session: Session, cohort: Cohort) -> dict[str, Any]:
    """The funnel of each month's new leads: how far they got, each step's conversion and the
    revenue they brought, oldest month first."""
    months: dict[str, list[tuple[Any, int, int, float]]] = defaultdict(list)
    for row in queries.furthest_by(session, cohort, "period"):
        months[str(row[0])].append(row)
    rows = []
    for month, members in sorted(months.items()):
        reached, revenue = _reached(members)
        rates = step_rates(reached)
        rows.append({
            "period": month, **{stage.value: reached[stage] for stage in REPORT_FUNNEL},
            **{f"{stage.value}_to_next": rates[stage].value for stage in rates},
            "lead_to_customer": Rate(reached[Stage.CUSTOMER], reached[Stage.LEAD]).value,
            "revenue": round(revenue, 2),
        })  # fmt: skip
    steps = [f"{stage.value}_to_next" for stage in REPORT_FUNNEL[:-1]]
    columns = ["period", *(s.value for s in REPORT_FUNNEL), *steps, "lead_to_customer",
               "revenue"]  # fmt: skip
    return table(
        "cohorts", "Funnel by cohort month",
        COHORT_NOTE + " One row per month of creation; `X_to_next` = reached the next stage / "
        "reached X. The latest months have had less time to convert.",
        cohort, columns, rows,
    )  # fmt: skip


def conversion(session: Session, cohort: Cohort, by: str) -> dict[str, Any]:
    """Leads, MQLs, SQLs, opportunities, customers, revenue and lead-to-customer rate per
    value of `by`."""
    return conversions(session, cohort, [by])[by]


def conversions(session: Session, cohort: Cohort, bys: list[str]) -> dict[str, dict[str, Any]]:
    """`conversion` by each of several dimensions, from one pass over the leads."""
    _known(bys)
    rows = queries.furthest_by_many(session, cohort, bys)
    return {by: _conversion(cohort, by, [(g[k], *rest) for g, *rest in rows])
            for k, by in enumerate(bys)}  # fmt: skip


def _known(bys: list[str]) -> None:
    for by in bys:
        if by not in queries.DIMENSIONS:
            raise ValueError(f"unknown dimension {by!r}; one of {', '.join(queries.DIMENSIONS)}")


def _conversion(
    cohort: Cohort, by: str, found: list[tuple[Any, int, int, float]]
) -> dict[str, Any]:
    groups: dict[Any, list[tuple[Any, int, int, float]]] = defaultdict(list)
    for row in found:
        # A band's lower edge is a whole number (SQLite's floor gives a float).
        key = int(row[0]) if by == "score_band" and row[0] is not None else row[0]
        groups[key].append(row)
    rows = []
    for group, members in groups.items():
        reached, revenue = _reached(members)
        won = Rate(reached[Stage.CUSTOMER], reached[Stage.LEAD])
        rows.append(
            {
                by: group,
                **{stage.value: reached[stage] for stage in REPORT_FUNNEL},
                "lead_to_customer": won.value,
                "small_sample": won.small_sample,
                "revenue": round(revenue, 2),
                "revenue_per_lead": share(revenue, reached[Stage.LEAD]),
            }
        )
    if by in NATURAL_ORDER:  # bands, grades and months read in their own order
        rows.sort(key=lambda r: (r[by] is None, r[by]))
    else:
        rows.sort(key=lambda r: (-r["revenue"], -r["lead"], str(r[by])))
    columns = [by, *(s.value for s in REPORT_FUNNEL), "lead_to_customer", "small_sample",
               "revenue", "revenue_per_lead"]  # fmt: skip
    return table(
        "conversion", f"Conversion and revenue by {by}",
        COHORT_NOTE + " lead_to_customer = customers / leads of the group; revenue = won amounts.",
        cohort, columns, rows, by=by,
    )  # fmt: skip


def velocity(session: Session, cohort: Cohort) -> dict[str, Any]:
    """Days spent in each stage (for stages the lead has left) and days from lead to customer."""
    order = [*FUNNEL, Stage.NURTURE, Stage.DISQUALIFIED]
    rows = stage_time.days_in(session, cohort, [stage.value for stage in order])
    to_customer = stage_time.to_customer(session, cohort)
    return table(
        "velocity", "Velocity: days in each stage",
        "Cohort as in the funnel. Time in a stage runs from entering it to the next move; "
        "leads still in a stage are not counted for it. lead_to_customer: creation to the win.",
        cohort, ["stage", "n", "mean_days", "p50_days", "p90_days"], rows,
        lead_to_customer=to_customer,
    )  # fmt: skip


def bottlenecks(
    session: Session, cohort: Cohort, start: datetime, end: datetime, history: list[datetime]
) -> dict[str, Any]:
    """Each step's conversion for leads created in [start, end) against leads created over
    the earlier periods that `history` bounds ([history[0], start)), biggest drop first."""
    now_rates = step_rates(_reached(queries.furthest_by(session, _within(cohort, start, end)))[0])
    past = _within(cohort, history[0], start)
    then_rates = step_rates(_reached(queries.furthest_by(session, past))[0])
    rows = []
    for stage, rate in now_rates.items():
        before = then_rates[stage]
        drop = (
            round(before.value - rate.value, 4)
            if before.value is not None and rate.value is not None
            else None
        )
        rows.append({
            "step": f"{stage.value} -> next", "now": rate.value, "n_now": rate.n,
            "before": before.value, "n_before": before.n, "drop": drop,
            "small_sample": rate.small_sample or before.small_sample,
        })  # fmt: skip
    rows.sort(key=_worst_first)
    return table(
        "bottlenecks", "Bottlenecks: where the funnel loses most against its own history",
        "now: leads created in the period; before: leads created in the earlier periods "
        "compared. drop = before - now (positive: worse now). Recent cohorts have had less "
        "time to convert, so compare periods that are both complete where you can.",
        cohort, ["step", "now", "n_now", "before", "n_before", "drop", "small_sample"], rows,
        period={"start": start.isoformat(), "end": end.isoformat()},
        history_start=history[0].isoformat(),
    )  # fmt: skip


def _worst_first(row: dict[str, Any]) -> float:
    drop = row["drop"]
    return -float(drop) if drop is not None else 1.0


def _within(cohort: Cohort, start: datetime, end: datetime) -> Cohort:
    return replace(cohort, since=start, until=end)
