"""Age stored scores without reading events: the worker's decay refresh.

Fit does not move with time, engagement does; every lead's engagement rules keep a state
(`rule_states`) from which `core.bulk_state` gives their points at any later moment. The
states and the leads' stored scores are read as columns (`repositories.state_columns`), every
rule's points are computed at `now` and at the moment each lead was scored, and only the leads
whose shown score moved (a rule's points, so the explanation, the total, the grade) are
written, in one UPDATE. Leads without a state for the active rules are handed back, to be
re-scored from their events.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core import bulk_state
from leadflow.core.bulk import grades, score_bands
from leadflow.core.bulk_columns import BoolArray, FloatArray, IntArray
from leadflow.core.contribution_text import with_engagement
from leadflow.core.engagement_state import epoch_micros
from leadflow.core.playbook import Playbook
from leadflow.repositories import rescoring, state_columns
from leadflow.services import account_rollup
from leadflow.services.engagement_state import MARKER, rule_keys


@dataclass
class Refreshed:
    """Leads aged from their states, how many were written, those that need their events,
    and the time it took."""

    leads: int = 0
    changed: int = 0
    without_state: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)  # re-counted: their score may have moved
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Aged:
    """New engagement points (lead x rule) and scores of the leads read, in `ids` order."""

    ids: IntArray
    points: FloatArray
    fit: FloatArray
    engagement: FloatArray
    total: FloatArray
    grade: Any


def age(
    playbook: Playbook,
    states: bulk_state.StateColumns,
    ids: IntArray,
    fit: FloatArray,
    now: datetime,
) -> Aged:
    """Scores at `now` of the leads `ids` (sorted) with stored `fit`, from their states."""
    points = bulk_state.rule_points(playbook, states, len(ids), now)
    # Sums of hundredths, in integers: what `points_sum` gives (see core.account_rollup).
    engaged = bulk_state.hundredths(points).sum(axis=1)
    engagement = engaged / 100 + 0.0
    total = (bulk_state.hundredths(fit) + engaged) / 100 + 0.0
    return Aged(ids, points, fit, engagement, total, grades(playbook, fit, engagement))


def _state_columns(states: dict[str, Any], ids: IntArray, rules: int) -> bulk_state.StateColumns:
    """The rule rows of these leads (sorted ids) as the core reads them."""
    keep = (states["rule"] >= 0) & (states["rule"] < rules) & np.isin(states["lead"], ids)
    return _columns(states, ids, keep)


def _columns(states: dict[str, Any], ids: IntArray, keep: Any) -> bulk_state.StateColumns:
    """The rows `keep` picks of the states of these leads (sorted ids), as the core reads them."""
    return bulk_state.StateColumns(
        np.searchsorted(ids, states["lead"][keep]),
        states["rule"][keep],
        states["count"][keep],
        states["band"][keep],
        states["anchored"][keep],
        states["window_from"][keep],
    )


@dataclass(frozen=True)
class Planned:
    """What a refresh read and computed, before writing: the leads aged, the rows whose shown
    score moved, each lead's stored total, scoring time and moment of change as read and its
    moment of change now (`Lead.decay_due`); for each of `rows`, its contributions as they
    are now (JSON text), its account, and whether its grade or score band moved."""

    aged: Aged
    rows: IntArray
    stored_total: FloatArray
    scored_us: IntArray
    without_state: list[int]
    phases: dict[str, float]
    due: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    stored_due: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    texts: list[str] = field(default_factory=list)
    account_ids: list[int | None] = field(default_factory=list)
    ranked: BoolArray = field(default_factory=lambda: np.zeros(0, bool))


def plan(
    session: Session,
    playbook: Playbook,
    now: datetime,
    lead_ids: Sequence[int] | None = None,
    *,
    find_stateless: bool = True,
) -> Planned:
    """Read these leads (all when None: those with a state whose points may have changed by
    `now`) and age them to `now`; nothing is written, so the worker reads without holding
    the write lock. Without `lead_ids`, leads without a state are handed back only when they
    have engagement to age, and only with `find_stateless` (it reads every lead)."""
    phases: dict[str, float] = {}
    started = time.perf_counter()
    rules = len(playbook.engagement.rules)
    rule_ids = [*(rule.id for rule in playbook.engagement.rules), MARKER]
    key = rule_keys(playbook)[1]
    if lead_ids is None:
        wanted = state_columns.due_leads(session, epoch_micros(now))
    else:
        wanted = np.unique(np.asarray(list(lead_ids), np.int64))
    # Not memory-mapped (`bulk_reads`): these are index lookups of the few leads due, and
    # unmapping the file after them cost more than the mapping saved (0.2-0.3 s a pass).
    states, stored, read_entries = state_columns.read(session, rule_ids, key, wanted)
    valid = np.unique(states["lead"][(states["rule"] == rules) & (states["current"] == 1)])
    order = np.argsort(stored["id"])
    stored = {name: column[order] for name, column in stored.items()}
    without_state: list[int] = []
    if lead_ids is not None:
        without_state = np.setdiff1d(wanted, valid).tolist()
    elif find_stateless:
        searched = time.perf_counter()
        with rescoring.bulk_reads(session):
            without_state = state_columns.stateless_leads(session, MARKER, key, now).tolist()
        phases["stateless"] = time.perf_counter() - searched
    stored = {name: column[np.isin(stored["id"], valid)] for name, column in stored.items()}
    ids = stored["id"]
    columns = _state_columns(states, ids, rules)
    phases["read"] = time.perf_counter() - started - phases.get("stateless", 0.0)

    started = time.perf_counter()
    aged = age(playbook, columns, ids, stored["fit"], now)
    then = bulk_state.rule_points_at(playbook, columns, stored["scored_us"])
    moved = (bulk_state.hundredths(aged.points) != bulk_state.hundredths(then)).any(axis=1)
    moved |= bulk_state.hundredths(aged.total) != bulk_state.hundredths(stored["total"])
    moved |= aged.engagement != stored["engagement"]
    moved |= stored["scored_us"] == state_columns.NO_TIME
    rows = np.flatnonzero(moved)
    due = _lead_due(playbook, states, ids, now)
    # What the write needs of these leads besides their scores, read here, in the snapshot
    # the states were read in, so that the write holds the lock for less.
    if read_entries is None:
        entries = state_columns.stored_entries(session, ids[rows].tolist())
    else:
        entries = state_columns.entries_of(read_entries, ids[rows])
    rows = rows[np.isin(ids[rows], entries.ids)]  # a lead erased since is not written back
    counted = np.zeros(aged.points.shape, np.int64)
    counted[columns.lead, columns.rule] = columns.count
    texts = with_engagement(playbook, aged.points[rows], counted[rows], entries.contributions)
    ranked = (aged.grade[rows].astype(object) != np.array(entries.grades, object)) | (
        score_bands(aged.total[rows]) != entries.score_bands
    )
    phases["score"] = time.perf_counter() - started
    return Planned(aged, rows, stored["total"], stored["scored_us"], without_state, phases,
                   due, stored["due"], texts, entries.account_ids, ranked)  # fmt: skip


def parts(planned: Planned, most: int) -> list[Planned]:
    """The plan as parts of at most `most` leads each with something to write (a shown score
    that moved, a new moment of change), by ranges of lead ids, then its leads without
    states `most` at a time. Writing each part in a transaction of its own gives what writing
    the whole plan gives (each lead's write reads only its own row), and a tracking call that
    comes meanwhile waits for one part, never for the whole pass."""
    aged, rows = planned.aged, planned.rows
    count = len(aged.ids)
    work = planned.due != planned.stored_due
    work[rows] = True
    busy = np.flatnonzero(work)
    starts = [0, *busy[most::most].tolist()] if len(busy) else [0]
    ends = [*starts[1:], count]
    found = [_range_part(planned, a, b) for a, b in zip(starts, ends, strict=True)]
    found[0] = replace(found[0], phases=dict(planned.phases))
    nothing = _range_part(planned, 0, 0)
    stateless = planned.without_state
    found += [
        replace(nothing, without_state=stateless[start : start + most])
        for start in range(0, len(stateless), most)
    ]
    return found


def _range_part(planned: Planned, start: int, end: int) -> Planned:
    """The part of the plan for the leads at rows `start` to `end` (exclusive) of its aged
    leads."""
    rows = planned.rows
    here = (rows >= start) & (rows < end)
    texts, accounts = _row_lists(planned, here)
    return Planned(
        _aged_range(planned.aged, start, end),
        rows[here] - start,
        planned.stored_total[start:end],
        planned.scored_us[start:end],
        [],
        {},
        planned.due[start:end],
        planned.stored_due[start:end],
        texts,
        accounts,
        planned.ranked[here],
    )


def _aged_range(aged: Aged, start: int, end: int) -> Aged:
    """The leads at rows `start` to `end` (exclusive) of `aged`."""
    return Aged(*(getattr(aged, f.name)[start:end] for f in fields(Aged)))


def _row_lists(planned: Planned, keep: Any) -> tuple[list[str], list[int | None]]:
    """The contributions' texts and accounts of the rows `keep` picks of `planned.rows`."""
    listed = _picked({"texts": planned.texts, "accounts": planned.account_ids}, keep)
    return listed["texts"], listed["accounts"]


def _picked(columns: dict[str, Any], keep: Any) -> dict[str, Any]:
    """The rows `keep` picks of columns held as arrays or lists."""
    flags = keep.tolist()
    return {
        name: [v for v, k in zip(column, flags, strict=True) if k]
        if isinstance(column, list) else column[keep]
        for name, column in columns.items()
    }  # fmt: skip


def _lead_due(playbook: Playbook, states: dict[str, Any], ids: IntArray, now: datetime) -> IntArray:
    """Each lead's (of `ids`, sorted and aged, so valid) moment of change after `now`: the
    earliest of its states' (`core.bulk_state.changes_at`), NEVER when none can change."""
    mine = np.isin(states["lead"], ids) & (states["rule"] >= 0)
    every = _columns(states, ids, mine)
    moment = bulk_state.changes_at(playbook, every, np.full(len(ids), epoch_micros(now)))
    due = np.full(len(ids), bulk_state.NEVER, np.int64)
    np.minimum.at(due, every.lead, moment)
    return due


def write(session: Session, playbook: Playbook, planned: Planned, now: datetime) -> Refreshed:
    """Write the leads whose shown score moved, as `plan` read them; a lead scored since that
    read (live tracking, an edit, a re-score) is left as it is: its score is newer. Then the
    new moments of change of the states read, of the leads not scored since."""
    started = time.perf_counter()
    with rescoring.bulk_writes(session):
        result = _write_planned(session, playbook, planned, now)
    result.phases["write"] = time.perf_counter() - started
    return result


def _write_planned(
    session: Session, playbook: Playbook, planned: Planned, now: datetime
) -> Refreshed:
    aged, rows = planned.aged, planned.rows
    written = _write_scores(session, aged, planned, now)
    accounts = _picked({"accounts": planned.account_ids}, written)["accounts"]
    rows = rows[written]
    result = Refreshed(phases=dict(planned.phases), without_state=planned.without_state)
    result.accounts = _write_rest(
        session, playbook, aged, rows, planned.stored_total[rows], accounts, now
    )
    _write_due(session, planned)
    result.leads = len(aged.ids)
    result.changed = len(rows)
    result.changed_ids = aged.ids[rows].tolist()
    return result


def _write_due(session: Session, planned: Planned) -> None:
    """The new moments of change of the leads read whose shown score did not move (the others
    got theirs with their scores), each only while its scoring time is the one read: a lead
    scored since had its moment set "not known" by its writer."""
    due_only = planned.due != planned.stored_due
    due_only[planned.rows] = False
    state_columns.write_due(session, {
        "id": planned.aged.ids[due_only].tolist(),
        "decay_due": planned.due[due_only].tolist(),
        "scored_us": planned.scored_us[due_only].tolist(),
    })  # fmt: skip


def _write_scores(session: Session, aged: Aged, planned: Planned, now: datetime) -> BoolArray:
    """The new scores of the leads at `planned.rows`, each only while its scoring time is
    the one read (a lead scored since keeps its newer score), those whose grade or score
    band stayed apart: they leave the columns, and the wide report index holding them,
    alone (most of a pass). For each row, whether its lead was written."""
    rows, ranked = planned.rows, planned.ranked
    written = np.zeros(len(rows), bool)
    for mine, same_ranks in ((ranked, False), (~ranked, True)):
        picked = rows[mine]
        written[mine] = state_columns.write_scores(
            session,
            {
                "id": aged.ids[picked].tolist(),
                "engagement": aged.engagement[picked].tolist(),
                "total": aged.total[picked].tolist(),
                "grade": aged.grade[picked].tolist(),
                "contributions": [
                    t for t, m in zip(planned.texts, mine.tolist(), strict=True) if m
                ],
                "decay_due": planned.due[picked].tolist(),
            },
            now,
            same_ranks=same_ranks,
            scored_as=planned.scored_us[picked].tolist(),
        )
    return written


def refresh(
    session: Session, playbook: Playbook, now: datetime, lead_ids: Sequence[int] | None = None
) -> Refreshed:
    """Re-score these leads (all when None) at `now` from their states, writing those whose
    shown score moved, in one transaction; the caller commits."""
    return write(session, playbook, plan(session, playbook, now, lead_ids), now)


def _write_rest(
    session: Session,
    playbook: Playbook,
    aged: Aged,
    rows: IntArray,
    before: FloatArray,
    accounts: list[int | None],
    now: datetime,
) -> list[int]:
    """After the new scores of the leads at `rows` (their totals `before`, their
    `accounts`): the ledger, and their accounts' roll-ups (whose ids are returned)."""
    if not len(rows):
        return []
    total = aged.total[rows]
    moved = np.flatnonzero(total != before)
    delta = (bulk_state.hundredths(total[moved]) - bulk_state.hundredths(before[moved])) / 100
    rescoring.append_ledger(
        session,
        {
            "lead_id": aged.ids[rows][moved].tolist(),
            "fit": aged.fit[rows][moved].tolist(),
            "engagement": aged.engagement[rows][moved].tolist(),
            "total": total[moved].tolist(),
            "grade": aged.grade[rows][moved].tolist(),
            "delta_total": (delta + 0.0).tolist(),
        },
        at=now,
        cause="decay",
    )
    recounted = sorted({a for a in accounts if a is not None})
    account_rollup.recount(session, playbook, recounted, now)
    return recounted
