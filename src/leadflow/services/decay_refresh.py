"""Age stored scores without reading events: the worker's decay refresh.

Fit does not move with time, engagement does; every lead's engagement rules keep a state
(`rule_states`) from which `core.bulk_state` gives their points at any later moment. Leads
without a state for the active rules are handed back, to be re-scored from their events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core import bulk_state
from leadflow.core.bulk import grades
from leadflow.core.bulk_columns import FloatArray, IntArray
from leadflow.core.playbook import Playbook
from leadflow.repositories import rescoring
from leadflow.repositories import rule_state as repo
from leadflow.services import account_rollup
from leadflow.services.engagement_state import MARKER, rule_keys

ENGAGEMENT_ENTRY = '"kind": "engagement"'


@dataclass
class Refreshed:
    """Leads aged from their states, those that need their events, and the time it took."""

    leads: int = 0
    changed: int = 0
    without_state: list[int] = field(default_factory=list)
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
    playbook: Playbook, states: FloatArray, ids: IntArray, fit: FloatArray, now: datetime
) -> Aged:
    """Scores at `now` of the leads `ids` (sorted) with stored `fit`, from `state_table` rows."""
    rules = len(playbook.engagement.rules)
    lead, rule = states[:, 0].astype(np.int64), states[:, 1].astype(np.int64)
    keep = (rule >= 0) & (rule < rules)
    columns = bulk_state.StateColumns(
        np.searchsorted(ids, lead[keep]),
        rule[keep],
        states[keep, 3].astype(np.int64),
        states[keep, 4].astype(np.int64),
        states[keep, 5],
        states[keep, 6].astype(np.int64),
    )
    points = bulk_state.rule_points(playbook, columns, len(ids), now)
    # Sums of hundredths, in integers: what `points_sum` gives (see core.account_rollup).
    engaged = bulk_state.hundredths(points).sum(axis=1)
    engagement = engaged / 100 + 0.0
    total = (bulk_state.hundredths(fit) + engaged) / 100 + 0.0
    return Aged(ids, points, fit, engagement, total, grades(playbook, fit, engagement))


def state_table(session: Session, playbook: Playbook, lead_ids: Sequence[int] | None) -> FloatArray:
    """The stored states as one numeric table (see `repositories.rule_state.state_rows`);
    the marker rows have rule index = number of rules."""
    rule_ids = [*(rule.id for rule in playbook.engagement.rules), MARKER]
    rows = repo.state_rows(session, rule_ids, rule_keys(playbook)[1], lead_ids)
    table: FloatArray = np.array(rows, np.float64).reshape(len(rows), 7)
    return table


def refresh(
    session: Session, playbook: Playbook, now: datetime, lead_ids: Sequence[int]
) -> Refreshed:
    """Re-score these leads at `now` from their states; the caller commits."""
    result = Refreshed()
    started = time.perf_counter()
    states = state_table(session, playbook, lead_ids)
    marker = states[:, 1] == len(playbook.engagement.rules)
    valid = set(states[marker & (states[:, 2] == 1), 0].astype(np.int64).tolist())
    result.without_state = sorted(set(lead_ids) - valid)
    stored = repo.score_columns(session, sorted(valid))
    order = np.argsort(np.array(stored["id"], np.int64))
    ids = np.array(stored["id"], np.int64)[order]
    fit = np.array(stored["fit"], np.float64)[order]
    states = states[np.isin(states[:, 0].astype(np.int64), ids)]
    result.phases["read"] = time.perf_counter() - started
    started = time.perf_counter()
    aged = age(playbook, states, ids, fit, now)
    result.phases["score"] = time.perf_counter() - started
    started = time.perf_counter()
    before = np.array(stored["total"], np.float64)[order]
    texts = [stored["contributions"][i] for i in order.tolist()]
    personas = [stored["persona"][i] for i in order.tolist()]
    _write(session, playbook, aged, before, texts, personas, now)
    accounts = {stored["account_id"][i] for i in order.tolist()} - {None}
    account_rollup.recount(session, playbook, sorted(accounts), now)
    result.phases["write"] = time.perf_counter() - started
    result.leads = len(ids)
    result.changed = int((aged.total != before).sum())
    return result


def _write(
    session: Session,
    playbook: Playbook,
    aged: Aged,
    before: FloatArray,
    texts: list[str | None],
    personas: list[Any],
    now: datetime,
) -> None:
    contributions = _contributions(playbook, aged.points, texts)
    rescoring.write_lead_scores(
        session,
        {
            "id": aged.ids.tolist(),
            "fit": aged.fit.tolist(),
            "engagement": aged.engagement.tolist(),
            "total": aged.total.tolist(),
            "grade": aged.grade.tolist(),
            "persona": personas,
            "contributions": contributions,
        },
        now,
        every_lead=False,
    )
    moved = np.flatnonzero(aged.total != before)
    delta = (bulk_state.hundredths(aged.total[moved]) - bulk_state.hundredths(before[moved])) / 100
    entries = {
        "lead_id": aged.ids[moved].tolist(),
        "fit": aged.fit[moved].tolist(),
        "engagement": aged.engagement[moved].tolist(),
        "total": aged.total[moved].tolist(),
        "grade": aged.grade[moved].tolist(),
        "delta_total": (delta + 0.0).tolist(),
    }
    rescoring.append_ledger(session, entries, at=now, cause="decay")


def _contributions(playbook: Playbook, points: FloatArray, texts: list[str | None]) -> list[str]:
    """Each lead's stored fit entries, then its engagement entries as they are now."""
    heads = [
        f'{{"rule": {json.dumps(r.id)}, "label": {json.dumps(r.label)}, {ENGAGEMENT_ENTRY}, '
        for r in playbook.engagement.rules
    ]
    out = []
    for row, text in zip(points.tolist(), texts, strict=True):
        fit = [json.dumps(e) for e in json.loads(text or "[]") if e.get("kind") != "engagement"]
        fit += [heads[r] + f'"points": {p!r}}}' for r, p in enumerate(row) if p]
        out.append("[" + ", ".join(fit) + "]")
    return out
