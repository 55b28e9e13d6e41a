"""`leadflow tune` on leadflow's own closed leads: a playbook proposed from what converted.

The data are the model's: every closed lead as it was when it became sales-ready (no later
events). Attributes become fit rules (points per binned value), behaviours become engagement
rules (points per event, capped where nine in ten leads stop); one regularised logistic
regression weighs them all: the scorecard `model train` measures and can serve
(`learners.lead_scorecard_bins`), here turned into points. The proposal keeps the active
playbook's personas, tiers, routing, SLA and hand-raisers and replaces its fit and engagement
rules, grades and MQL criterion.

Measured out of sample on five stratified folds: the model's AUC and the proposal's (its
points added as the playbook would add them, without decay) on the held-out leads, the
gradient-boosted model's on the same folds (`gbm_auc`), and the active playbook's own score on
the same leads at their cutoffs (`active_playbook_auc`: nothing is fitted, so every lead is
out of sample), so a proposal that ranks worse than what is running shows it.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from sqlalchemy.orm import Session

from leadflow.core import scorecard
from leadflow.core.errors import Invalid
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import declaring_what_it_reads, parse_playbook
from leadflow.core.report_math import roc_auc
from leadflow.repositories import training
from leadflow.services import learners, playbooks, prediction
from leadflow.services import model as learning
from leadflow.services.prediction import BOOSTED, SCORECARD
from leadflow.services.tuning import check_outcomes, target_share

ATTRIBUTE_FIELDS = {
    "title": "title", "country": "country", "source": "source", "industry": "account.industry",
    "tier": "account.tier", "employees": "account.employees",
    "annual_revenue": "account.annual_revenue",
}  # fmt: skip
PER_DOUBLING = scorecard.POINTS_TO_DOUBLE_ODDS / np.log(2.0)


def _matrix(
    columns: dict[str, list[str | None]], behaviours: list[str], rows: npt.NDArray[np.int64]
) -> tuple[list[scorecard.Bin], npt.NDArray[np.float64]]:
    """The scorecard's features learned from `rows` (attribute bins, then the behaviours'
    capped counts, as `model train` has them) and their matrix over every row."""
    found = learners.lead_scorecard_bins(columns, behaviours, rows)
    return found, scorecard.design(found, columns)


def tune(
    session: Session, playbook: Playbook, *, mql_share: float = 0.2, precision: float | None = None
) -> dict[str, Any]:
    """The evaluation, the proposed rules, the playbook text and its diff against the active."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    stages = [s.value for s in playbook.lifecycle.sales_ready]
    rows = training.labelled(session, stages)
    y = np.array([r["won"] for r in rows], dtype=np.int64)
    check_outcomes(y)
    counts = training.labelled_behaviour(session, stages)
    behaviours = learning._frequent(counts)
    columns = prediction.columns_for(rows, counts, behaviours)
    model_scores, card_scores, gbm_scores = np.zeros(y.size), np.zeros(y.size), np.zeros(y.size)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train_rows, test_rows in folds.split(np.zeros(y.size), y):
        forest = learners.fit_boosted(columns, y, train_rows)
        gbm_scores[test_rows] = learners.boosted_log_odds(forest, columns, test_rows)
        _, x = _matrix(columns, behaviours, train_rows)
        fitted = learners.fit_scorecard(x[train_rows], y[train_rows])
        model_scores[test_rows] = fitted.predict_proba(x[test_rows])[:, 1]
        card_scores[test_rows] = x[test_rows] @ np.round(fitted.coef_[0] * PER_DOUBLING, 1)
    everything = np.arange(y.size)
    bins, x = _matrix(columns, behaviours, everything)
    final = learners.fit_scorecard(x, y)
    points = np.round(final.coef_[0] * PER_DOUBLING, 1)
    fits = np.array([b.cap is None for b in bins], dtype=bool)
    fit_rules = _fit_rules([b for b, f in zip(bins, fits, strict=True) if f], points[fits])
    engagement_rules = _engagement_rules([b for b, f in zip(bins, fits, strict=True) if not f],
                                         points[~fits])  # fmt: skip
    fit_totals = x[:, fits] @ points[fits]
    engagement_totals = x[:, ~fits] @ points[~fits]
    totals = fit_totals + engagement_totals
    mql_share = target_share(card_scores, y, mql_share, precision)
    threshold = float(np.round(np.quantile(totals, 1 - mql_share), 1))
    oof_threshold = float(np.quantile(card_scores, 1 - mql_share))
    chosen = card_scores >= oof_threshold
    active = playbooks.active_version(session)
    text = _proposal(active.content, fit_rules, engagement_rules, threshold,
                     (fit_totals, engagement_totals))  # fmt: skip
    before, after = active.content.splitlines(keepends=True), text.splitlines(keepends=True)
    diff = "".join(difflib.unified_diff(before, after, f"version {active.version}", "proposed"))
    aucs = {SCORECARD: round(float(roc_auc_score(y, model_scores)), 4),
            BOOSTED: round(float(roc_auc_score(y, gbm_scores)), 4)}  # fmt: skip
    won = BOOSTED if aucs[BOOSTED] > aucs[SCORECARD] else SCORECARD
    return {
        "auc": aucs[won], "model": won,
        "source": "leadflow's closed leads, as they were when they became sales-ready",
        "rows": int(y.size), "converted": int(y.sum()), "folds": 5,
        "scorecard_auc": round(float(roc_auc_score(y, model_scores)), 4),
        "playbook_auc": round(float(roc_auc_score(y, card_scores)), 4),
        "gbm_auc": round(float(roc_auc_score(y, gbm_scores)), 4),
        "active_playbook_auc": roc_auc(learning.playbook_scores(session, playbook, rows),
                                       y.astype(bool)),
        "backtest": {
            "mql_share": round(mql_share, 4), "precision_target": precision,
            "mqls": int(chosen.sum()),
            "mql_conversion": round(float(y[chosen].mean()), 4) if chosen.any() else None,
            "base_conversion": round(float(y.mean()), 4),
            "customers_caught": int(y[chosen].sum()), "customers": int(y.sum()),
        },
        "rules": sorted(fit_rules + engagement_rules, key=lambda r: -abs(float(r["points"]))),
        "playbook": text, "diff": diff,
    }  # fmt: skip


def _fit_rules(bins: list[scorecard.Bin], points: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
    rules = []
    for b, p in zip(bins, points, strict=True):
        if p == 0:
            continue
        if b.column == "has_company":
            when: dict[str, Any] = {"field": "account.domain", "exists": b.value == "yes"}
        else:
            when = scorecard.condition(ATTRIBUTE_FIELDS[b.column], b)
        rules.append(
            {"id": scorecard.slug(b.label()), "label": b.label(), "points": float(p), "when": when}
        )
    return rules


def _engagement_rules(
    counts: list[scorecard.Bin], points: npt.NDArray[np.float64]
) -> list[dict[str, Any]]:
    rules = []
    for b, p in zip(counts, points, strict=True):
        if p == 0:
            continue
        kind, cap = b.column, b.cap or 0.0
        what, _, name = kind.partition(" ")
        event = ({"type": ["page"], "where": {"field": "properties.path", "equals": name}}
                 if what == "page" else {"type": ["track"], "name": [name]})  # fmt: skip
        rules.append({"id": scorecard.slug(kind), "label": f"{kind} (each)", "points": float(p),
                      "cap": round(abs(float(p)) * float(cap), 1), "decay": False,
                      "event": event})  # fmt: skip
    return rules


def _proposal(
    active: str, fit: list[dict[str, Any]], engagement: list[dict[str, Any]], mql_at: float,
    parts: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
) -> str:  # fmt: skip
    document = yaml.safe_load(active)
    if not isinstance(document, dict):
        raise Invalid("the active playbook is not a mapping")
    seen: set[str] = set()
    for rule in fit + engagement:
        base, k = rule["id"], 2
        while rule["id"] in seen:
            rule["id"], k = f"{base}_{k}", k + 1
        seen.add(rule["id"])
    document["fit"] = {"rules": fit}
    document["engagement"] = {**(document.get("engagement") or {}), "rules": engagement}
    document["grade"] = {
        "fit": scorecard.grade_cutoffs(parts[0], ("A", "B", "C")),
        "engagement": scorecard.grade_cutoffs(parts[1], ("1", "2", "3")),
    }
    lifecycle = document.get("lifecycle") or {}
    lifecycle["mql"] = {"field": "total", "gte": mql_at}
    document["lifecycle"] = lifecycle
    document = declaring_what_it_reads(document)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    parse_playbook(text)
    return (
        "# Proposed by `leadflow tune` from leadflow's closed leads; review before applying.\n"
        + text
    )
