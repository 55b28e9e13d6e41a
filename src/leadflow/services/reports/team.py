"""Speed to lead and both SLAs, lead-quality feedback, and leads fallen through the cracks."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core.engagement_state import epoch_micros
from leadflow.core.errors import Invalid
from leadflow.core.limits import MAX_DB_INT, MAX_REPORT_ROWS
from leadflow.core.periods import months_between
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort, Rate, percentiles
from leadflow.repositories import fallen_through as cracks
from leadflow.repositories import handoff_columns
from leadflow.repositories import reports as queries
from leadflow.repositories.handoff_columns import STATUSES
from leadflow.services.reports.base import share, table

# Minutes from the hand-off to the first touch, as the speed-to-lead distribution buckets them.
BUCKETS = ((5, "under 5 min"), (30, "5-30 min"), (240, "30 min-4 h"), (1440, "4-24 h"))
LIMITS = np.array([limit for limit, _ in BUCKETS], dtype=np.float64)
# The cracks: how many the report shows unless asked (the longest waiting), and its problems.
CRACKS_SHOWN = 100
NO_OWNER, PAST_DEADLINE = "no owner", "no touch past the SLA"


def speed_to_lead(
    session: Session, playbook: Playbook, cohort: Cohort, start: datetime, end: datetime
) -> dict[str, Any]:
    """Time from sales-ready to first touch, SLA compliance per rep and team, and marketing's
    MQLs against the commitment over [start, end)."""
    found = handoff_columns.handoffs(session, cohort)
    rows = _compliance(found.reps, found, "rep")
    teams = _compliance(found.teams, found, "team")
    touched = ~np.isnan(found.minutes)
    minutes = found.minutes[touched]
    counts = np.bincount(np.searchsorted(LIMITS, minutes, side="right"), minlength=len(BUCKETS) + 1)
    distribution = [
        {"bucket": label, "handoffs": int(counts[k])} for k, (_, label) in enumerate(BUCKETS)
    ]
    distribution.append({"bucket": "over 24 h", "handoffs": int(counts[len(BUCKETS)])})
    distribution.append({"bucket": "not touched", "handoffs": int((~touched).sum())})
    marketing = marketing_sla(session, playbook, start, end)
    columns = ["rep", "handoffs", "met", "breached", "open", "compliance", "small_sample",
               "p50_minutes", "p90_minutes"]  # fmt: skip
    return table(
        "speed", "Speed to lead and the SLA, both sides",
        "Hand-offs of cohort leads. compliance = met / (met + breached); open hand-offs are "
        "not yet judged. Minutes run from the hand-off to the first sales action. Marketing: "
        "moves into MQL in the period against the monthly commitment times its months.",
        cohort, columns, rows, teams=teams, distribution=distribution,
        overall=percentiles(minutes), marketing=marketing,
    )  # fmt: skip


def marketing_sla(
    session: Session, playbook: Playbook, start: datetime, end: datetime
) -> dict[str, Any]:
    """Marketing's side: moves into MQL in [start, end) against the monthly commitment times
    the period's months (a part of a month: its share of the commitment)."""
    promised = playbook.sla.mql_commitment_per_month
    committed = round(promised * months_between(start, end), 2) if promised else None
    if committed is not None and committed.is_integer():
        committed = int(committed)
    mqls = queries.entries(session, "mql", start, end)
    return {
        "start": start.isoformat(), "end": end.isoformat(), "mqls": mqls,
        "commitment": committed,
        "share_of_commitment": share(mqls, committed) if committed is not None else None,
    }  # fmt: skip


def sla_by_team(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Each team's hand-offs made in [start, end), whenever their leads came: met, breached,
    open, compliance and minutes to first touch (the period `leadflow sla` judges)."""
    found = handoff_columns.handoffs(session, Cohort(), made=(start, end))
    return _compliance(found.teams, found, "team")


def _compliance(
    keys: handoff_columns.Labelled, found: handoff_columns.Handoffs, name: str
) -> list[dict[str, Any]]:
    """One row per key (in order): hand-offs, their SLA tally and minutes to first touch."""
    order = np.argsort(keys.codes, kind="stable")
    bounds = np.searchsorted(keys.codes[order], np.arange(len(keys.labels) + 1))
    rows = []
    for k, group in enumerate(keys.labels):
        members = order[bounds[k] : bounds[k + 1]]
        tally = np.bincount(found.statuses[members], minlength=len(STATUSES) + 1)
        met, breached, still_open = (int(n) for n in tally[: len(STATUSES)])
        waits = found.minutes[members]
        judged = Rate(met, met + breached)
        rows.append({
            name: group, "handoffs": int(members.size), "met": met, "breached": breached,
            "open": still_open, "compliance": judged.value, "small_sample": judged.small_sample,
            **{f"{k}_minutes": v for k, v in percentiles(waits[~np.isnan(waits)]).items()},
        })  # fmt: skip
    return rows


def lead_quality(session: Session, cohort: Cohort) -> dict[str, Any]:
    """Why sales sent leads back (recycle) or out (disqualify), by source and campaign, and
    why deals were lost."""
    # An opportunity sent back or out is feedback too, read apart (only a lost deal is not).
    exits: Counter[tuple[str, str, str | None, str | None]] = Counter()
    found = chain(queries.exit_reasons(session, cohort), queries.opportunity_exits(session, cohort))
    for stage, reason, source, campaign, count in found:
        exits[(stage, reason, source, campaign)] += count
    rows: list[dict[str, Any]] = [
        {"action": "recycled" if stage == "nurture" else "disqualified", "reason": reason,
         "source": source, "campaign": campaign, "leads": count}
        for (stage, reason, source, campaign), count in exits.items()
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r["leads"], r["action"], str(r["reason"])))
    lost: list[dict[str, Any]] = [
        {"reason": r, "deals": n} for r, n in queries.lost_reasons(session, cohort)
    ]
    lost.sort(key=lambda r: (-r["deals"], str(r["reason"])))
    return table(
        "quality", "Lead quality feedback: recycle and disqualify reasons",
        "Moves of cohort leads into nurture or disqualified made by a person (not the "
        "system), by the reason they gave and the lead's source and campaign.",
        cohort, ["action", "reason", "source", "campaign", "leads"], rows, lost_reasons=lost,
    )  # fmt: skip


def fallen_through(
    session: Session,
    playbook: Playbook,
    cohort: Cohort,
    now: datetime,
    limit: int = CRACKS_SHOWN,
    offset: int = 0,
) -> dict[str, Any]:
    """Sales-ready leads nobody owns, or whose hand-off deadline passed untouched: the page
    of `limit` from `offset` (longest waiting first), and how many there are by problem."""
    _check_page(limit, offset)
    stages = [stage.value for stage in playbook.lifecycle.sales_ready]
    found = cracks.fallen_through(session, cohort, stages, now, limit, offset)
    now_us = epoch_micros(now)
    iso = cracks.iso_utc
    # One comprehension, one dict a row: up to a page of rows.
    # minutes_late is round((now - due).total_seconds() / 60, 1): the same exact microseconds.
    rows = [
        {"lead_id": lead_id, "email": email, "stage": stage, "owner": owner, "team": team,
         "since": since and iso(since), "sla_due_at": due and iso(due),
         "minutes_late": round((now_us - due_us) / 10**6 / 60, 1)
         if due and due_us < now_us else None,
         "problem": NO_OWNER if owner is None else PAST_DEADLINE}
        for lead_id, email, stage, owner, since, team, due, due_us in found.rows
    ]  # fmt: skip
    return table(
        "cracks", "Fallen through the cracks",
        f"Cohort leads in a sales-ready stage ({', '.join(stages)}) with no owner, or whose "
        "latest hand-off passed its SLA deadline with no touch; longest waiting first (by "
        "deadline), `limit` of them from `offset`. total counts them all.",
        cohort, ["lead_id", "email", "stage", "owner", "team", "sla_due_at", "minutes_late",
                 "problem"], rows,
        total=found.unowned + found.overdue, shown=len(rows), limit=limit, offset=offset,
        by_problem={NO_OWNER: found.unowned, PAST_DEADLINE: found.overdue},
    )  # fmt: skip


def _check_page(limit: int, offset: int) -> None:
    """A page the database can be asked for: whole numbers, in bounds (Invalid names which)."""
    for name, value, most in (("limit", limit, MAX_REPORT_ROWS), ("offset", offset, MAX_DB_INT)):
        if type(value) is not int or not 0 <= value <= most:
            raise Invalid(f"{name}: {value!r} must be a whole number from 0 to {most}")
