"""Figures the pages show that cost too much to compute per request: kept by the worker in
`page_snapshots`, refreshed in the background, and served with the time they were taken.

- `dashboard`: every figure of the all-time dashboard (the funnel and its four breakdowns,
  speed to lead, linear attribution, calibration, drift). They move with every score, stage,
  outcome and touch, and four of them are rates over the whole history: kept exact per event
  they would add writes to every path that changes a lead, so they are recomputed whole.
- `visits`: how many visitors had their latest page view on each day. Distinct visitors in a
  window cannot be summed from smaller counts, but visitors in [day D, T) are exactly those
  whose latest view before T is on D or later: one snapshot answers every window that starts
  at a midnight and ends at T (the plan's measured window and the current period so far).

A snapshot older than `MAX_AGE` (a stopped worker) is not served: the pages compute their
figures when asked, as they do before the first refresh and for a period other than all time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.models.page_snapshot import PageSnapshot
from leadflow.repositories import page_snapshots
from leadflow.repositories import visitors as visitor_counts
from leadflow.services import reports
from leadflow.services.reports import funnel, revenue

DASHBOARD = "dashboard"
VISITS = "visits"
MAX_AGE = timedelta(hours=1)
EVERY = 60.0  # seconds at least between refreshes,
SHARE = 20.0  # and at least this many times the last refresh took (at most 5% of a worker's time)
# The dashboard's breakdowns: the key its page reads, the dimension it groups by.
BREAKDOWNS = {"sources": "source", "campaigns": "campaign", "personas": "persona",
              "bands": "score_band"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One computed figure set, ready to store."""

    name: str
    content: dict[str, Any]
    took_ms: int


def dashboard_data(
    session: Session, book: Playbook, cohort: Cohort, period: str | None, now: datetime
) -> dict[str, Any]:
    """The dashboard's figures for a cohort (`period` applied), computed now: the funnel and
    its breakdowns from one pass over the leads, attribution by the one model charted."""
    view, split = funnel.overview(session, cohort, list(BREAKDOWNS.values()))

    def run(name: str) -> dict[str, Any]:
        return reports.run(session, book, name, Cohort(), reports.Options(period=period), now)

    return {
        "funnel": view,
        **{key: split[by] for key, by in BREAKDOWNS.items()},
        "speed": run("speed"),
        "attribution": revenue.attribution(session, cohort, models=["linear"]),
        "calibration": run("calibration"),
        "drift": run("drift"),
    }


def dashboard(
    session: Session, book: Playbook, cohort: Cohort, period: str | None, now: datetime
) -> tuple[dict[str, Any], datetime | None]:
    """(the dashboard's figures, when they were taken): all time from the snapshot when a
    recent one exists (None: computed now)."""
    if period is None:
        taken = _recent(session, DASHBOARD, now)
        if taken is not None:
            return taken.content, taken.as_of
    return dashboard_data(session, book, cohort, period, now), None


def visitors(
    session: Session, windows: Sequence[tuple[datetime, datetime]], now: datetime
) -> tuple[list[int], datetime | None]:
    """(visitors in each window, when they were counted): from the snapshot when every window
    starts at a midnight (UTC) and ends now, and a recent one exists; else counted now (None)."""
    taken = _recent(session, VISITS, now)
    servable = all(end == now and start == midnight(start) for start, end in windows)
    if taken is None or not servable:
        return visitor_counts.visitors_in(session, windows), None
    days: dict[str, int] = taken.content["days"]
    counts = []
    for start, _ in windows:
        first = start.date().isoformat()
        counts.append(sum(n for day, n in days.items() if day >= first))
    return counts, taken.as_of


def midnight(moment: datetime) -> datetime:
    """The start of `moment`'s day: where every window the visits snapshot answers starts."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _recent(session: Session, name: str, now: datetime) -> PageSnapshot | None:
    taken = page_snapshots.get(session, name)
    if taken is None or not now - MAX_AGE <= taken.as_of <= now:
        return None
    return taken


def compute(session: Session, book: Playbook, now: datetime) -> list[Snapshot]:
    """Every snapshot as of `now` (reads only: run it without a write lock)."""
    found = []
    for name, make in (
        (DASHBOARD, lambda: dashboard_data(session, book, Cohort(), None, now)),
        (VISITS, lambda: {"days": visitor_counts.latest_views_by_day(session, now)}),
    ):
        started = time.perf_counter()
        content = json.loads(json.dumps(make()))  # stored as JSON: served exactly as stored
        found.append(Snapshot(name, content, round((time.perf_counter() - started) * 1000)))
    return found


def store(session: Session, found: Sequence[Snapshot], now: datetime) -> None:
    """Replace the stored snapshots with `found`, taken at `now`."""
    for snapshot in found:
        page_snapshots.put(session, snapshot.name, snapshot.content, as_of=now,
                           took_ms=snapshot.took_ms)  # fmt: skip


def due(session: Session, now: datetime) -> bool:
    """Whether a refresh is due: a snapshot is missing, or the oldest was taken `EVERY`
    seconds ago (or `SHARE` times what the last refresh took, when that is longer). Read from
    the stored ones, so several workers (or a restarted one) do not refresh more often."""
    found = page_snapshots.taken(session)
    if {name for name, _, _ in found} != {DASHBOARD, VISITS}:
        return True
    every = max(EVERY, SHARE * sum(took for _, _, took in found) / 1000.0)
    return min(as_of for _, as_of, _ in found) <= now - timedelta(seconds=every)


def refresh(session: Session, book: Playbook, now: datetime) -> int:
    """Compute and store every snapshot in one go; the milliseconds it took."""
    found = compute(session, book, now)
    store(session, found, now)
    return sum(s.took_ms for s in found)
