"""Bulk scoring: every lead at once with NumPy, equal to the per-lead core to the hundredth.

Callers hand over columns: lead facts keyed by the dotted paths conditions read (see
`fact_paths`), each lead's account tier, and event columns (see `event_paths`). Conditions are
answered by the core itself once per distinct combination of values; points become a dense
lead x rule matrix; sums are exact (see `bulk_math`). No database, no clock: `now` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from leadflow.core.accounts import account_only
from leadflow.core.bulk_columns import (
    BoolArray,
    Coded,
    Column,
    Encoder,
    FactTable,
    FloatArray,
    IntArray,
    ObjectArray,
    encode,
)
from leadflow.core.bulk_events import EventColumns, engagement_matrix, event_paths
from leadflow.core.bulk_math import group_sums, round_points, row_sums
from leadflow.core.engagement_state import epoch_micros, from_micros
from leadflow.core.playbook import FitRule, Playbook
from leadflow.core.scoring import (
    PRECISION,
    SCORE_BAND_LIMIT,
    SCORE_BAND_WIDTH,
    ContributionKind,
    distance_points,
)

__all__ = [
    "AccountScores",
    "BulkScores",
    "Coded",
    "Column",
    "ContributionColumn",
    "Encoder",
    "EventColumns",
    "LeadColumns",
    "epoch_micros",
    "event_paths",
    "fact_paths",
    "from_micros",
    "round_points",
    "score_accounts",
    "score_leads",
]

Entry = tuple[str, str, ContributionKind, float]  # rule, label, kind, points


@dataclass(frozen=True, slots=True)
class LeadColumns:
    """Lead facts as columns (None: missing) by dotted path, and each lead's account tier id."""

    size: int
    facts: Mapping[str, Column]
    tier: Column


@dataclass(frozen=True, slots=True)
class ContributionColumn:
    """The rule behind one column of the points matrix."""

    rule: str
    label: str
    kind: ContributionKind


@dataclass(frozen=True)
class BulkScores:
    """Scores of every lead, and the points each rule gave (a lead x rule matrix)."""

    fit: FloatArray
    engagement: FloatArray
    total: FloatArray
    grade: npt.NDArray[np.str_]
    persona: ObjectArray
    columns: tuple[ContributionColumn, ...]
    points: FloatArray
    counts: IntArray | None = None  # events each column's rule counted (None: none did)

    def sparse(self) -> tuple[IntArray, IntArray, FloatArray]:
        """(lead, column, points) of every contribution, by lead, in the core's rule order."""
        leads, columns = np.nonzero(self.points)
        return leads.astype(np.int64), columns.astype(np.int64), self.points[leads, columns]

    def contributions(self, lead: int) -> list[Entry]:
        """One lead's contributions, as the core lists them."""
        row = self.points[lead]
        return [self._entry(int(j), float(row[j])) for j in np.flatnonzero(row)]

    def contribution_lists(self) -> list[list[Entry]]:
        """Every lead's contributions."""
        leads, columns, points = self.sparse()
        entries = [
            self._entry(j, p) for j, p in zip(columns.tolist(), points.tolist(), strict=True)
        ]
        bounds = np.searchsorted(leads, np.arange(len(self.fit) + 1)).tolist()
        return [entries[a:b] for a, b in pairwise(bounds)]

    def _entry(self, column: int, points: float) -> Entry:
        info = self.columns[column]
        return (info.rule, info.label, info.kind, points)


@dataclass(frozen=True)
class AccountScores:
    """Accounts' fit, buying-group engagement, total, and engaged and all lead counts."""

    fit: FloatArray
    engagement: FloatArray
    total: FloatArray
    engaged: IntArray
    leads: IntArray


def fact_paths(playbook: Playbook) -> set[str]:
    """The lead fact paths that fit rules and persona criteria read (the tier comes apart)."""
    paths = {path for rule in playbook.fit.rules for path in rule.fields()}
    criteria = (c for persona in playbook.personas for c in persona.criteria)
    return paths | {path for condition in criteria for path in condition.fields()}


def contribution_columns(playbook: Playbook) -> tuple[ContributionColumn, ...]:
    """The points matrix's columns: fit rules, tiers, engagement rules (the core's order)."""
    return (
        *(ContributionColumn(r.id, r.label, "fit") for r in playbook.fit.rules),
        *(
            ContributionColumn(f"tier:{t.id}", f"Target account: {t.label or t.id}", "tier")
            for t in playbook.tiers
        ),
        *(ContributionColumn(r.id, r.label, "engagement") for r in playbook.engagement.rules),
    )


def _distance(rule: FitRule, facts: dict[str, Any]) -> float:
    assert rule.distance is not None
    return round(distance_points(rule, rule.distance, facts), PRECISION)


def fit_matrix(playbook: Playbook, table: FactTable, tier: Column) -> FloatArray:
    """Points per row (lead or account) and fit rule, then per tier."""
    rules, tiers = playbook.fit.rules, playbook.tiers
    out = np.zeros((table.size, len(rules) + len(tiers)))
    for j, rule in enumerate(rules):
        if rule.distance is not None:
            out[:, j] = table.compute(rule.fields(), partial(_distance, rule))
        elif rule.when is not None:
            out[:, j] = np.where(table.test(rule.when), round(rule.points, PRECISION), 0.0)
    coded = encode(tier)
    for k, each in enumerate(tiers):
        member: BoolArray = np.array([v == each.id for v in coded.values] or [False])
        points = round(each.points, PRECISION)  # as the core gives them (`fit_contributions`)
        out[:, len(rules) + k] = np.where(member[coded.codes], points, 0.0)
    return out


def grades(playbook: Playbook, fit: FloatArray, engagement: FloatArray) -> npt.NDArray[np.str_]:
    """Fit letter and engagement digit per lead, e.g. `B2`."""
    cuts = playbook.grade
    letter = np.select([fit >= cuts.fit[k] for k in "ABC"], list("ABC"), "D")
    digit = np.select([engagement >= cuts.engagement[k] for k in "123"], list("123"), "4")
    return np.char.add(letter, digit)


def score_bands(total: FloatArray) -> IntArray:
    """`scoring.score_band` of each total (the same floor of the same quotient)."""
    most = SCORE_BAND_LIMIT // SCORE_BAND_WIDTH
    quotient = np.floor(np.nan_to_num(total, nan=0.0) / SCORE_BAND_WIDTH)
    return (np.clip(quotient, -most, most) * SCORE_BAND_WIDTH).astype(np.int64)


def personas(playbook: Playbook, table: FactTable) -> ObjectArray:
    """Each lead's best persona id (first wins a tie; None when none qualifies)."""
    best: ObjectArray = np.full(table.size, None, dtype=object)
    best_share = np.full(table.size, -1.0)  # the core compares with the rounded best share
    for persona in playbook.personas:
        met = sum((table.test(c).astype(np.int64) for c in persona.criteria), np.int64(0))
        count = len(persona.criteria)
        share = np.arange(count + 1) / count
        rounded = np.array([round(k / count, 4) for k in range(count + 1)])
        ok = share >= persona.min_match
        better = ok[met] & (met > 0) & (share[met] > best_share)
        best[better] = persona.id
        best_share[better] = rounded[met][better]
    return best


def score_leads(
    playbook: Playbook, leads: LeadColumns, events: EventColumns, now: datetime
) -> BulkScores:
    """Every lead's score at `now`, as `score_lead` gives it one by one."""
    table = FactTable(leads.facts, leads.size)
    fit_points = fit_matrix(playbook, table, leads.tier)
    engagement_points, counted = engagement_matrix(playbook, events, leads.size, now)
    fit, engagement = row_sums(fit_points), row_sums(engagement_points)
    return BulkScores(
        fit=fit,
        engagement=engagement,
        total=row_sums(fit_points, engagement_points),
        grade=grades(playbook, fit, engagement),
        persona=personas(playbook, table),
        columns=contribution_columns(playbook),
        points=np.hstack([fit_points, engagement_points]),
        counts=np.hstack([np.zeros(fit_points.shape, np.int64), counted]),
    )


def score_accounts(
    playbook: Playbook,
    accounts: LeadColumns,
    lead_account: IntArray,
    lead_engagement: FloatArray,
) -> AccountScores:
    """`score_account` for every account: facts under `account.*`, leads by account index."""
    fit_points = fit_matrix(
        account_only(playbook), FactTable(accounts.facts, accounts.size), accounts.tier
    )
    settings = playbook.account_scoring
    member = (lead_account >= 0) & (lead_account < accounts.size)
    group, engagement = lead_account[member], lead_engagement[member]
    engaged = group[engagement >= settings.engaged_min_engagement]
    buying = group_sums(group, np.where(engagement > 0, engagement, 0.0), accounts.size)
    if settings.engagement_cap is not None:
        buying = np.minimum(buying, settings.engagement_cap)
    return AccountScores(
        fit=row_sums(fit_points),
        engagement=buying,
        total=row_sums(fit_points, buying[:, None]),
        engaged=np.bincount(engaged, minlength=accounts.size).astype(np.int64),
        leads=np.bincount(group, minlength=accounts.size).astype(np.int64),
    )
