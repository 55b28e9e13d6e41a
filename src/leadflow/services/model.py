"""`leadflow model train`: learn conversion from closed leads, as they were when they became
sales-ready, and put a probability with its contributions and reasons on every open lead.

Two kinds are fitted on the same splits and the better out of sample is kept: a regularised
logistic scorecard (core/scorecard.py; the very design `tune` turns into a playbook's points,
`learners.lead_scorecard_bins`: attributes binned, behaviours as capped counts) and a LightGBM
gradient-boosted forest with native categorical splits (services/learners.py; served from its
stored trees by core/trees.py). Both read the lead's attributes, its account's, and how often
it did each thing before its cutoff. Validation is by time when the outcomes are spread over
time (the newest quarter), else by stratified folds; the report has ROC-AUC, PR-AUC, lift in
the top 10% and 20%, calibration, and the active playbook's score on the same held-out leads,
side by side.

Honest by construction: a model that ranks worse out of sample than the active playbook's own
score, or than the model already active (scored on the same held-out leads), is kept as an
inactive version with its metrics, and the ranking in use stays.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from leadflow.core import calibration as calibrated
from leadflow.core import scorecard
from leadflow.core.errors import Invalid, NotFound
from leadflow.core.facts import field_uses
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import roc_auc
from leadflow.core.scoring import score_from_events
from leadflow.models.prediction import PredictiveModel
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import predictive_models as model_repo
from leadflow.repositories import training
from leadflow.services import leads as lead_service
from leadflow.services import learners, pipeline, prediction
from leadflow.services.prediction import BOOSTED, SCORECARD
from leadflow.services.tuning import MIN_CLASS, ColdStart, check_outcomes

MAX_BEHAVIOURS = 25
MIN_BEHAVIOUR_LEADS = 20


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


def lift(y: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], top: float) -> float | None:
    """Conversion in the top share by score over conversion overall."""
    if y.size == 0 or y.mean() == 0:
        return None
    count = max(1, round(y.size * top))
    best = np.argsort(-scores, kind="mergesort")[:count]
    return round(float(y[best].mean() / y.mean()), 3)


def calibration(y: npt.NDArray[np.int64], p: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
    """Mean predicted against observed, by tenths of predicted probability (the deciles the
    drift report compares with, `core.calibration`)."""
    return [{"decile": b.decile, "predicted": round(b.predicted, 3),
             "observed": round(b.actual, 3), "n": b.leads}
            for b in calibrated.bins(p, y.astype(bool))]  # fmt: skip


def playbook_scores(
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
    """Measure both kinds, keep the better as a new version, and serve it unless it ranks worse
    than the active playbook or the active model out of sample; its report."""
    if not negatives or set(negatives) - set(training.NEGATIVES):
        raise Invalid(f"negatives: choose from {', '.join(training.NEGATIVES)}")
    stages = [s.value for s in playbook.lifecycle.sales_ready]
    rows = training.labelled(session, stages, negatives)
    y = np.array([r["won"] for r in rows], dtype=np.int64)
    check_outcomes(y)
    counts = training.labelled_behaviour(session, stages, negatives)
    behaviours = _frequent(counts)
    columns = prediction.columns_for(rows, counts, behaviours)
    how, splits = _splits([r["cutoff"] for r in rows], y)
    odds = {SCORECARD: np.full(y.size, np.nan), BOOSTED: np.full(y.size, np.nan)}
    for train_rows, test_rows in splits:
        bins = learners.lead_scorecard_bins(columns, behaviours, train_rows)
        x = scorecard.design(bins, columns)
        fitted = learners.fit_scorecard(x[train_rows], y[train_rows])
        odds[SCORECARD][test_rows] = fitted.decision_function(x[test_rows])
        forest = learners.fit_boosted(columns, y, train_rows)
        odds[BOOSTED][test_rows] = learners.boosted_log_odds(forest, columns, test_rows)
    tested = np.flatnonzero(~np.isnan(odds[SCORECARD]))
    yt = y[tested]
    book = playbook_scores(session, playbook, [rows[k] for k in tested])
    aucs = {kind: _auc(yt, o[tested]) for kind, o in odds.items()}
    kind = BOOSTED if aucs[BOOSTED] > aucs[SCORECARD] else SCORECARD
    pt = 1 / (1 + np.exp(-odds[kind][tested]))
    metrics = _metrics(how, y, yt, pt, book, negatives)
    metrics.update({"kind": kind, "scorecard_roc_auc": aucs[SCORECARD],
                    "gbm_roc_auc": aucs[BOOSTED]})  # fmt: skip
    active = model_repo.active(session)
    held = [rows[k] for k in tested]
    served, decision = _decide(metrics, active, (held, counts), yt)
    metrics.update({"served": served, "decision": decision})
    model = _final(kind, columns, y, behaviours, metrics, now)
    model_repo.add(session, model, active=served)
    scored = _serve(session, playbook, model, now) if served else 0
    return {"version": model.version, "kind": kind, "served": served, "decision": decision,
            "metrics": metrics, "leads_scored": scored,
            "top": _top(model, columns)}  # fmt: skip


def _serve(session: Session, playbook: Playbook, model: PredictiveModel, now: datetime) -> int:
    """Every undecided lead's probability from the model now served (how many), and when the
    playbook reads `probability`, their scores, stages and hand-offs with it, in bulk: what
    live scoring of each lead would give (the bulk run refreshes the probabilities first)."""
    refreshed = prediction.refresh_many(session, model, None)
    if any(use.path == "probability" for use in field_uses(playbook)):
        pipeline.run_bulk(session, playbook, now, cause="rescore", actor="model",
                          probabilities_fresh=True)  # fmt: skip
    return refreshed


def _auc(y: npt.NDArray[np.int64], scores: npt.NDArray[np.float64]) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, scores)), 4)


def _metrics(
    how: str, y: npt.NDArray[np.int64], yt: npt.NDArray[np.int64], pt: npt.NDArray[np.float64],
    book: npt.NDArray[np.float64], negatives: tuple[str, ...],
) -> dict[str, Any]:  # fmt: skip
    from sklearn.metrics import average_precision_score

    return {
        "validation": how, "outcomes": int(y.size), "converted": int(y.sum()),
        "tested": int(yt.size),
        "roc_auc": _auc(yt, pt),
        "pr_auc": round(float(average_precision_score(yt, pt)), 4),
        "lift_top_10": lift(yt, pt, 0.1), "lift_top_20": lift(yt, pt, 0.2),
        "calibration": calibration(yt, pt),
        "playbook_roc_auc": roc_auc(book, yt.astype(bool)),
        "playbook_pr_auc": round(float(average_precision_score(yt, book)), 4),
        "playbook_lift_top_10": lift(yt, book, 0.1),
        "playbook_lift_top_20": lift(yt, book, 0.2),
        "negatives": list(negatives),
    }  # fmt: skip


def _decide(
    metrics: dict[str, Any], active: PredictiveModel | None,
    held: tuple[list[dict[str, Any]], list[tuple[int, str, int]]], yt: npt.NDArray[np.int64],
) -> tuple[bool, str]:  # fmt: skip
    """Serve the new model only when it ranks no worse than what is in use, on the same leads."""
    auc, book = metrics["roc_auc"], metrics["playbook_roc_auc"]
    if book is not None and auc < book:
        return False, (
            f"not served: it ranks worse than the active playbook's score out of sample "
            f"(ROC-AUC {auc} against {book}); the playbook's ranking stays"
        )
    if active is not None:
        # The held-out leads as the active model reads them (its own behaviour columns).
        columns = prediction.columns_for(held[0], held[1], list(active.behaviours))
        current = _auc(yt, prediction.log_odds(active, columns))
        metrics["active_model_roc_auc"] = current
        if auc < current:
            return False, (f"not served: it ranks worse than the active model (version "
                           f"{active.version}) on the same held-out leads (ROC-AUC {auc} "
                           f"against {current}); that model stays")  # fmt: skip
    return True, f"served: ROC-AUC {auc} out of sample (the active playbook's score: {book})"


def _final(
    kind: str, columns: dict[str, list[str | None]], y: npt.NDArray[np.int64],
    behaviours: list[str], metrics: dict[str, Any], now: datetime,
) -> PredictiveModel:  # fmt: skip
    """The chosen kind fitted on every outcome."""
    everywhere = np.arange(y.size)
    if kind == BOOSTED:
        fitted = learners.fit_boosted(columns, y, everywhere)
        return PredictiveModel(kind=kind, bins=[], weights=[], intercept=0.0, trees=fitted,
                               behaviours=behaviours, metrics=metrics, created_at=now)  # fmt: skip
    bins = learners.lead_scorecard_bins(columns, behaviours, everywhere)
    final = learners.fit_scorecard(scorecard.design(bins, columns), y)
    return PredictiveModel(
        kind=kind, bins=[scorecard.stored(b) for b in bins],
        weights=[float(w) for w in final.coef_[0]], intercept=float(final.intercept_[0]),
        behaviours=behaviours, metrics=metrics, created_at=now,
    )  # fmt: skip


def _top(model: PredictiveModel, columns: dict[str, list[str | None]], count: int = 8
         ) -> list[dict[str, Any]]:  # fmt: skip
    """What weighs most: a scorecard's largest weights; a forest's columns by their mean
    absolute contribution (log-odds) over the leads it learned from."""
    if model.kind == SCORECARD:
        pairs = sorted(zip(model.bins, model.weights, strict=True), key=lambda bw: -abs(bw[1]))
        return [{"rule": scorecard.from_stored(b).label(), "weight": round(w, 3)}
                for b, w in pairs[:count]]  # fmt: skip
    weigh: dict[str, float] = defaultdict(float)
    found = prediction.explain(model, columns)
    for e in found:
        for name, v in e.contributions.items():
            weigh[name] += v / len(found)
    ranked = sorted(weigh.items(), key=lambda kv: -abs(kv[1]))[:count]
    return [{"rule": name, "weight": round(w, 3)} for name, w in ranked]


RETRAIN_EVERY = {"daily": timedelta(days=1), "weekly": timedelta(days=7),
                 "monthly": timedelta(days=30)}  # fmt: skip


def retrain_due(session: Session, playbook: Playbook, now: datetime) -> str | None:
    """Why the playbook's schedule wants a new model now (`learning: {retrain, min_new_outcomes}`),
    or None: the last training is recent, or too few leads have closed since."""
    plan = playbook.learning
    if plan.retrain == "never":
        return None
    latest = model_repo.latest(session)
    if latest is not None and now - latest.created_at < RETRAIN_EVERY[plan.retrain]:
        return None
    stages = [s.value for s in playbook.lifecycle.sales_ready]
    outcomes = training.count_labelled(session, stages)
    new = outcomes - (int(latest.metrics.get("outcomes", 0)) if latest else 0)
    if new < plan.min_new_outcomes:
        return None
    return f"{plan.retrain} retraining: {new} new outcomes"


def retrain_if_due(session: Session, playbook: Playbook, now: datetime) -> dict[str, Any] | None:
    """The worker's scheduled retraining: a new version (kept with its metrics) that replaces
    the active model only when it ranks no worse on the same held-out leads; None when not due
    or when there are still too few outcomes to learn from."""
    why = retrain_due(session, playbook, now)
    if why is None:
        return None
    try:
        result = train(session, playbook, now)
    except ColdStart:
        return None
    return {**result, "why": why}


def versions(session: Session) -> list[PredictiveModel]:
    """Every trained model, oldest first."""
    return model_repo.versions(session)


def active_model(session: Session) -> PredictiveModel:
    model = model_repo.active(session)
    if model is None:
        raise NotFound("no trained model: `leadflow model train` makes one")
    return model


__all__ = ["MIN_CLASS", "ColdStart", "active_model", "train"]
