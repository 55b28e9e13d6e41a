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
from sqlalchemy import ColumnElement, and_, bindparam, func, select
from sqlalchemy.orm import Session

from leadflow.core.attribution import NEVER
from leadflow.core.attribution_credit import NO_CLOSE
from leadflow.core.report_math import Cohort
from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.repositories._bulk import dialect_name, epoch_micros, fetch
from leadflow.repositories.report_sql import in_cohort
from leadflow.repositories.stage_changes import entered

Ints = npt.NDArray[np.int64]


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


def _rows(session: Session, query: Any) -> list[tuple[Any, ...]]:
    return list(chain.from_iterable(fetch(session, query)))


def _columns(session: Session) -> list[Any]:
    return [Lead.id, func.coalesce(Lead.outcome_amount, 0.0), Lead.campaign,
            epoch_micros(session, Lead.created_at),
            epoch_micros(session, Lead.closed_at)]  # fmt: skip


def _moves(session: Session) -> Any:
    """Moves into opportunity: (lead, when, in microseconds). Not a merge's own row: the
    history the duplicate brought holds when the opportunity was made (`entered`)."""
    return select(StageChange.lead_id, epoch_micros(session, StageChange.at)).where(
        StageChange.to_stage == "opportunity", entered()
    )


def won_leads(session: Session, which: ColumnElement[bool]) -> WonLeads:
    """The won leads `which` selects, by id (many: a report's)."""
    rows = _rows(session, select(*_columns(session)).where(which).order_by(Lead.id))
    moves = _rows(session, _moves(session))
    return _won(rows, moves)


# A refresh's few leads: statements made once per dialect with the ids bound (compiled once
# and cached by SQLAlchemy: a tracking call for a won lead runs them), and only these
# leads' own moves read, off `ix_stage_changes_lead_id`.
_IDS: Any = bindparam("ids", expanding=True)
_OF_THESE: dict[str, tuple[Any, Any]] = {}


def won_leads_among(session: Session, ids: list[int]) -> WonLeads:
    """The won leads among these (few: a refresh's), by id."""
    name = dialect_name(session)
    if name not in _OF_THESE:
        leads = select(*_columns(session)).where(Lead.id.in_(_IDS), Lead.outcome == "won")
        moves = _moves(session).where(StageChange.lead_id.in_(_IDS))
        _OF_THESE[name] = (leads.order_by(Lead.id), moves)
    leads_query, moves_query = _OF_THESE[name]
    connection = session.connection()
    rows = [tuple(r) for r in connection.execute(leads_query, {"ids": ids})]
    if not rows:
        return _won([], [])
    won_ids = [r[0] for r in rows]
    return _won(rows, [tuple(r) for r in connection.execute(moves_query, {"ids": won_ids})])


def _won(rows: list[tuple[Any, ...]], moves: list[tuple[Any, ...]]) -> WonLeads:
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    amounts = np.array([float(r[1]) for r in rows], dtype=np.float64)
    created = np.array([r[3] for r in rows], dtype=np.int64)
    won = np.array([NO_CLOSE if r[4] is None else r[4] for r in rows], dtype=np.int64)
    campaigns = [r[2] for r in rows]
    return WonLeads(ids, amounts, campaigns, created, _opened(ids, moves), won)


def _opened(ids: Ints, moves_read: list[tuple[Any, ...]]) -> Ints:
    """When each of these leads (sorted ids) last became an opportunity (NEVER: never), from
    the moves into it (of these leads or more), kept per lead in NumPy. A report reads every
    move off `ix_stage_changes_to_stage_at`: a grouped subquery joined to the leads made
    SQLite group and index its result on every call (five times the time), a correlated one
    scanned the moves for each lead."""
    moves = np.array(moves_read, dtype=np.int64).reshape(-1, 2)
    at = np.searchsorted(ids, moves[:, 0])
    mine = np.r_[ids, -1][at] == moves[:, 0]
    latest = np.full(ids.size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, at[mine], moves[mine, 1])
    return np.where(latest == np.iinfo(np.int64).min, NEVER, latest)
