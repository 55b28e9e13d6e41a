"""`leadflow model train`: learn conversion from closed leads, as they were when they became
sales-ready, and put a calibrated probability with its reasons on every open lead.

The model is a regularised logistic scorecard (core/scorecard.py) over the lead's attributes,
its account's, and how often it did each thing before its cutoff; it is stored as plain JSON,
versioned, and measured before it is kept: held out by time when the outcomes are spread over
time (the newest quarter), else by stratified folds; ROC-AUC, PR-AUC, lift in the top 10% and
20%, calibration, and the active playbook's score on the same held-out leads, side by side.
Gradient boosting on the same columns is measured too, to show what a black box would add.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from leadflow.core import scorecard
from leadflow.core.errors import Invalid, NotFound
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import roc_auc
from leadflow.core.scoring import score_from_events
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.prediction import PredictiveModel
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import predictive_models as model_repo
from leadflow.repositories import training
from leadflow.repositories.reports import SALES_EVENT_SOURCES
from leadflow.services import leads as lead_service
from leadflow.services.tuning import MIN_CLASS, ColdStart, check_outcomes

ATTRIBUTES = ("title", "country", "source", "industry", "tier", "employees", "annual_revenue",
              "has_company")  # fmt: skip
MAX_BEHAVIOURS = 25
MIN_BEHAVIOUR_LEADS = 20
OPEN_STAGES = ("lead", "mql", "sql", "opportunity", "nurture")


def columns_for(
    rows: list[dict[str, Any]], counts: list[tuple[int, str, int]], behaviours: list[str]
) -> dict[str, list[str | None]]:
    """Attributes and behaviour counts as the scorecard's text columns, one row per lead."""
    done: dict[int, dict[str, int]] = defaultdict(dict)
    for lead_id, kind, n in counts:
        done[lead_id][kind] = n
    columns: dict[str, list[str | None]] = {
        name: [None if r[name] is None else str(r[name]) for r in rows] for name in ATTRIBUTES
    }
    for kind in behaviours:
        columns[kind] = [str(done[r["id"]].get(kind, 0)) for r in rows]
    # How much the lead did at all, besides what it did.
    columns["all events"] = [str(sum(done[r["id"]].values())) for r in rows]
    columns["page views"] = [
        str(sum(n for k, n in done[r["id"]].items() if k.startswith("page "))) for r in rows
    ]
    return columns


def _frequent(counts: list[tuple[int, str, int]]) -> list[str]:
    leads_per_kind: dict[str, int] = defaultdict(int)
    for _, kind, _ in counts:
        leads_per_kind[kind] += 1
    ranked = sorted(leads_per_kind.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, n in ranked if n >= MIN_BEHAVIOUR_LEADS][:MAX_BEHAVIOURS]


def _splits(cutoffs: list[datetime], y: npt.NDArray[np.int64]) -> tuple[str, list[Any]]:
    """By time when the cutoffs span more than a day (train on the older 75%), else folds."""
    from sklearn.model_selection import StratifiedKFold

    span = (max(cutoffs) - min(cutoffs)).total_seconds() if cutoffs else 0
    if span > 86_400:
        edge = int(len(cutoffs) * 0.75)
        order = np.arange(len(cutoffs))
        return "by time: trained on the older 75%, tested on the newest 25%", [
            (order[:edge], order[edge:])
        ]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return "stratified 5-fold (all outcomes at one time)", list(folds.split(np.zeros(y.size), y))


def _fit(x: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=2000).fit(x, y)


def lift(y: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], top: float) -> float | None:
    """Conversion in the top share by score over conversion overall."""
    if y.size == 0 or y.mean() == 0:
        return None
    count = max(1, round(y.size * top))
    best = np.argsort(-scores, kind="mergesort")[:count]
    return round(float(y[best].mean() / y.mean()), 3)


def calibration(y: npt.NDArray[np.int64], p: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
    """Mean predicted against observed, by tenths of predicted probability."""
    rows = []
    for k in range(10):
        inside = (p >= k / 10) & (p < (k + 1) / 10 if k < 9 else p <= 1.0)
        if inside.any():
            predicted, observed = float(p[inside].mean()), float(y[inside].mean())
            rows.append({"predicted": round(predicted, 3), "observed": round(observed, 3),
                         "n": int(inside.sum())})  # fmt: skip
    return rows


def _playbook_scores(
    session: Session, playbook: Playbook, rows: list[dict[str, Any]]
) -> npt.NDArray[np.float64]:
    """The active playbook's total for each lead at its cutoff (its events up to then)."""
    scores = np.zeros(len(rows))
    history = event_repo.for_leads(session, [r["id"] for r in rows])
    leads = {lead.id: lead for lead in lead_repo.get_many(session, [r["id"] for r in rows])}
    for k, row in enumerate(rows):
        lead = leads[row["id"]]
        facts = lead_service.facts_of(session, lead, playbook)
        events = [lead_service.event_facts(e) for e in history.get(row["id"], ())
                  if e.occurred_at <= row["cutoff"]]  # fmt: skip
        scores[k] = score_from_events(playbook, facts, events, row["cutoff"]).total
    return scores


def train(
    session: Session,
    playbook: Playbook,
    now: datetime,
    negatives: tuple[str, ...] = training.NEGATIVES,
) -> dict[str, Any]:
    """Measure, then keep (as the active model) a scorecard of conversion: won against
    `negatives` (lost deals, disqualified leads); its report."""
    if not negatives or set(negatives) - set(training.NEGATIVES):
        raise Invalid(f"negatives: choose from {', '.join(training.NEGATIVES)}")
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score

    stages = [s.value for s in playbook.lifecycle.sales_ready]
    rows = training.labelled(session, stages, negatives)
    y = np.array([r["won"] for r in rows], dtype=np.int64)
    check_outcomes(y)
    counts = training.labelled_behaviour(session, stages, negatives)
    behaviours = _frequent(counts)
    columns = columns_for(rows, counts, behaviours)
    how, splits = _splits([r["cutoff"] for r in rows], y)
    predicted = np.full(y.size, np.nan)
    boosted = np.full(y.size, np.nan)
    everywhere = np.arange(y.size)
    for train_rows, test_rows in splits:
        bins = _bins(columns, train_rows)
        x = scorecard.design(bins, columns)
        predicted[test_rows] = _fit(x[train_rows], y[train_rows]).predict_proba(x[test_rows])[:, 1]
        gbm = HistGradientBoostingClassifier(random_state=0).fit(x[train_rows], y[train_rows])
        boosted[test_rows] = gbm.predict_proba(x[test_rows])[:, 1]
    tested = ~np.isnan(predicted)
    held = [rows[k] for k in np.flatnonzero(tested)]
    book = _playbook_scores(session, playbook, held)
    yt, pt = y[tested], predicted[tested]
    metrics = {
        "validation": how, "outcomes": int(y.size), "converted": int(y.sum()),
        "tested": int(tested.sum()),
        "roc_auc": round(float(roc_auc_score(yt, pt)), 4),
        "pr_auc": round(float(average_precision_score(yt, pt)), 4),
        "lift_top_10": lift(yt, pt, 0.1), "lift_top_20": lift(yt, pt, 0.2),
        "calibration": calibration(yt, pt),
        "playbook_roc_auc": roc_auc(book, yt.astype(bool)),
        "playbook_pr_auc": round(float(average_precision_score(yt, book)), 4),
        "playbook_lift_top_10": lift(yt, book, 0.1),
        "playbook_lift_top_20": lift(yt, book, 0.2),
        "negatives": list(negatives),
        "gbm_roc_auc": round(float(roc_auc_score(yt, boosted[tested])), 4),
    }  # fmt: skip
    bins = _bins(columns, everywhere)
    final = _fit(scorecard.design(bins, columns), y)
    model = model_repo.add_active(session, PredictiveModel(
        kind="logistic scorecard", bins=[_bin_dict(b) for b in bins],
        weights=[float(w) for w in final.coef_[0]], intercept=float(final.intercept_[0]),
        behaviours=behaviours, metrics=metrics, created_at=now,
    ))  # fmt: skip
    version = model.version
    scored = score_open_leads(session, model)
    return {"version": version, "metrics": metrics, "leads_scored": scored,
            "top": _top_weights(model)}  # fmt: skip


def _bins(columns: dict[str, list[str | None]], rows: npt.NDArray[np.int64]) -> list[scorecard.Bin]:
    return scorecard.bins_for(columns, rows, max(10, int(0.02 * rows.size)))


def _bin_dict(b: scorecard.Bin) -> dict[str, Any]:
    return {"column": b.column, "low": b.low, "high": b.high, "value": b.value}


def _bin_of(data: dict[str, Any]) -> scorecard.Bin:
    return scorecard.Bin(data["column"], data["low"], data["high"], data["value"])


def _top_weights(model: PredictiveModel, count: int = 8) -> list[dict[str, Any]]:
    pairs = sorted(zip(model.bins, model.weights, strict=True), key=lambda bw: -abs(bw[1]))
    return [{"rule": _bin_of(b).label(), "weight": round(w, 3)} for b, w in pairs[:count]]


def versions(session: Session) -> list[PredictiveModel]:
    """Every trained model, oldest first."""
    return model_repo.versions(session)


def active_model(session: Session) -> PredictiveModel:
    model = model_repo.active(session)
    if model is None:
        raise NotFound("no trained model: `leadflow model train` makes one")
    return model


def score_open_leads(session: Session, model: PredictiveModel) -> int:
    """Probability and reasons for every undecided lead, from the model (no retraining)."""
    rows = training.open_leads(session, OPEN_STAGES)
    if not rows:
        return 0
    counts = training.open_behaviour(session, [r["id"] for r in rows])
    columns = columns_for(rows, counts, list(model.behaviours))
    bins = [_bin_of(b) for b in model.bins]
    x = scorecard.design(bins, columns)
    weights = np.asarray(model.weights)
    odds = x @ weights + model.intercept
    probability = 1 / (1 + np.exp(-odds))
    leads = {lead.id: lead for lead in lead_repo.get_many(session, [r["id"] for r in rows])}
    for k, row in enumerate(rows):
        lead = leads[row["id"]]
        lead.probability = round(float(probability[k]), 4)
        lead.probability_reasons = _reasons(bins, x[k] * weights)
    return len(rows)


def kinds_of(events: Sequence[Event]) -> list[tuple[int, str, int]]:
    """One lead's behaviour counts from its stored events, as the training query counts them."""
    tally: dict[tuple[int, str], int] = defaultdict(int)
    for e in events:
        if e.type not in ("page", "track") or e.source in SALES_EVENT_SOURCES or e.lead_id is None:
            continue
        kind = f"page {e.path or '?'}" if e.type == "page" else f"event {e.name or e.type}"
        tally[(e.lead_id, kind)] += 1
    return [(lead_id, kind, n) for (lead_id, kind), n in tally.items()]


def refresh(
    session: Session, model: PredictiveModel, lead: Lead, account: Any, events: Sequence[Event]
) -> None:
    """The lead's probability and reasons now, from the model (scoring, not retraining)."""
    row = {"id": lead.id, "title": lead.title, "country": lead.country, "source": lead.source,
           "industry": account.industry if account else None,
           "tier": account.tier if account else None,
           "employees": account.employees if account else None,
           "annual_revenue": account.annual_revenue if account else None,
           "has_company": "yes" if lead.account_id else "no"}  # fmt: skip
    columns = columns_for([row], kinds_of(events), list(model.behaviours))
    bins = [_bin_of(b) for b in model.bins]
    x = scorecard.design(bins, columns)[0]
    weighed = x * np.asarray(model.weights)
    lead.probability = round(float(1 / (1 + np.exp(-(weighed.sum() + model.intercept)))), 4)
    lead.probability_reasons = _reasons(bins, weighed)


def active_or_none(session: Session) -> PredictiveModel | None:
    """The model live scoring uses, if one has been trained."""
    return model_repo.active(session)


def _reasons(bins: list[scorecard.Bin], weighed: npt.NDArray[np.float64]) -> list[str]:
    order = np.argsort(-np.abs(weighed))[:3]
    return [f"{bins[j].label()} ({'+' if weighed[j] > 0 else '-'})" for j in order
            if weighed[j] != 0 and math.isfinite(weighed[j])]  # fmt: skip


__all__ = ["MIN_CLASS", "ColdStart", "active_model", "score_open_leads", "train"]
