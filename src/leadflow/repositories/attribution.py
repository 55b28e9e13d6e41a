"""Attribution's reads, as columns: the won leads and the moments their touches key on.

The touches from events are kept one row per won lead (`won_touches`); they come out
unordered, with times as integer microseconds (no datetime object per touch), and the
service sorts them with NumPy. A lead's own campaign (its touch at creation) comes with the
lead, not as a second read of the leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from leadflow.core.attribution import NEVER
from leadflow.core.attribution_credit import NO_CLOSE
from leadflow.core.report_math import Cohort
from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.repositories._bulk import epoch_micros, fetch
from leadflow.repositories.report_sql import in_cohort

Ints = npt.NDArray[np.int64]
FEW = 1000  # leads whose moves are read by id rather than by a pass over every move


@dataclass(frozen=True, slots=True)
class WonLeads:
    """Won cohort leads by id: amount, the campaign that acquired it (None: none), and its
    creation, opportunity and win moments (microseconds)."""

    ids: Ints
    amounts: npt.NDArray[np.float64]
    campaigns: list[str | None]
    created: Ints
    opportunity: Ints  # NEVER when it never became an opportunity
    won: Ints  # NO_CLOSE when no closing time was stored


def of_cohort_won(cohort: Cohort) -> ColumnElement[bool]:
    """The won leads of a cohort."""
    return and_(in_cohort(cohort), Lead.outcome == "won")


def of_these_won(ids: list[int]) -> ColumnElement[bool]:
    """The won leads among these."""
    return and_(Lead.id.in_(ids), Lead.outcome == "won")


def _rows(session: Session, query: Any) -> list[tuple[Any, ...]]:
    return list(chain.from_iterable(fetch(session, query)))


def won_leads(session: Session, which: ColumnElement[bool]) -> WonLeads:
    """The won leads `which` selects, by id."""
    columns = [Lead.id, func.coalesce(Lead.outcome_amount, 0.0), Lead.campaign,
               epoch_micros(session, Lead.created_at),
               epoch_micros(session, Lead.closed_at)]  # fmt: skip
    rows = _rows(session, select(*columns).where(which).order_by(Lead.id))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    amounts = np.array([float(r[1]) for r in rows], dtype=np.float64)
    created = np.array([r[3] for r in rows], dtype=np.int64)
    won = np.array([NO_CLOSE if r[4] is None else r[4] for r in rows], dtype=np.int64)
    campaigns = [r[2] for r in rows]
    return WonLeads(ids, amounts, campaigns, created, _opened(session, ids), won)


def _opened(session: Session, ids: Ints) -> Ints:
    """When each of these leads (sorted ids) last became an opportunity (NEVER: never), from
    every move into it, read off `ix_stage_changes_to_stage_at` and kept per lead in NumPy:
    a grouped subquery joined to the leads made SQLite group and index its result on every
    call (five times the time), a correlated one scanned the moves for each lead."""
    query = select(StageChange.lead_id, epoch_micros(session, StageChange.at)).where(
        StageChange.to_stage == "opportunity"
    )
    if ids.size <= FEW:  # a refresh's few leads: their own moves, not everyone's
        query = query.where(StageChange.lead_id.in_(ids.tolist()))
    moves = np.fromiter(chain.from_iterable(_rows(session, query)), np.int64).reshape(-1, 2)
    at = np.searchsorted(ids, moves[:, 0])
    mine = np.r_[ids, -1][at] == moves[:, 0]
    latest = np.full(ids.size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, at[mine], moves[mine, 1])
    return np.where(latest == np.iinfo(np.int64).min, NEVER, latest)
