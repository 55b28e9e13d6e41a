"""The learners `model train` and `tune` compare, each fitted on a fold and scored on the rest.

Training code only: scikit-learn and LightGBM are imported inside the functions (about a
second), and nothing on the request path imports this module (serving reads the stored model,
`services/prediction.py`).

- `scorecard`: the regularised logistic regression over binned values (`core/scorecard.py`),
  one design for all three: `scorecard_bins` (and, on leadflow's own leads, `lead_scorecard_bins`:
  the attributes binned, each frequent behaviour a capped count) and `fit_scorecard`. So the
  scorecard `model train` measures and can serve is the one `tune` turns into points.
- `boosted`: LightGBM with native categorical splits over one feature per column
  (`core/boosted.py`), shallow (which also keeps its exact TreeSHAP table small); the number of
  rounds is chosen by early stopping in a three-fold cross-validation of the training rows,
  then it is refitted on all of them.
- Baselines (`tune --history`): logistic regression on one-hot values, naive Bayes on each
  field's value frequencies (the way Odoo's predictive lead scoring weighs fields), and
  scikit-learn's histogram gradient boosting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from leadflow.core import boosted, scorecard
from leadflow.core.trees import forest_digest, prune_dump
from leadflow.services.prediction import ATTRIBUTES

Columns = Mapping[str, Sequence[str | None]]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
# Shallow and slow (CRM exports have few positives: deeper trees overfit), while small category
# groups stay splittable (a job title seen 40 times still carries signal); chosen on the
# generated exports of benchmarks/learning.py.
GBM_PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.03, "num_leaves": 4, "max_depth": 2,
    "min_data_in_leaf": 30, "min_data_per_group": 10, "cat_smooth": 10.0, "cat_l2": 10.0,
    "max_cat_threshold": 32, "max_cat_to_onehot": 8, "lambda_l2": 1.0, "feature_fraction": 0.7,
    "bagging_fraction": 0.8, "bagging_freq": 1, "seed": 0, "deterministic": True,
    "num_threads": 1, "verbose": -1,
}  # fmt: skip
MAX_ROUNDS = 600
PATIENCE = 40
# The scorecard's bins and regularisation, chosen on the generated exports of
# benchmarks/learning.py (out-of-fold AUC): many small bins, held back by a stronger penalty.
MIN_SUPPORT = 20
RANGES = 10
REGULARISATION = 0.3  # scikit-learn's C: smaller is stronger


def scorecard_bins(columns: Columns, rows: I64, counts: Sequence[str] = ()) -> list[scorecard.Bin]:
    """Every value, word and blank seen MIN_SUPPORT times (or in 0.2% of rows), ten ranges
    per number, each column in `counts` one capped count: rare job titles still count through
    their words, and the regularisation, not a frequency cut, keeps weak bins small (measured
    in benchmarks/learning.py)."""
    support = max(MIN_SUPPORT, int(0.002 * rows.size))
    return scorecard.bins_for(columns, rows, support, ranges=RANGES, words=True, counts=counts)


def lead_scorecard_bins(
    columns: Columns, behaviours: Sequence[str], rows: I64
) -> list[scorecard.Bin]:
    """The scorecard of leadflow's own leads (`model train`, `tune`): the lead's and its
    account's attributes binned, then each frequent behaviour counted up to its cap; what a
    playbook's fit rules and engagement rules (points per event, capped) can say."""
    read = {name: columns[name] for name in (*ATTRIBUTES, *behaviours)}
    return scorecard_bins(read, rows, counts=behaviours)


def fit_scorecard(x: F64, y: I64) -> Any:
    """The scorecard's logistic regression, as regularised as every scorecard here."""
    return fit_logistic(x, y, REGULARISATION)


def fit_logistic(x: F64, y: I64, strength: float = 1.0) -> Any:
    """L2-regularised logistic regression; `strength` is scikit-learn's C (smaller: stronger
    regularisation)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS threads only spin on a shared two-core machine
        return LogisticRegression(C=strength, max_iter=3000).fit(x, y)


def fit_boosted(columns: Columns, y: I64, rows: I64) -> dict[str, Any]:
    """A boosted model fitted on `rows`, as stored: {"specs", "forest", "rounds", "digest"}."""
    import lightgbm as lgb

    specs = boosted.specs_for(columns, rows)
    x = boosted.encode(specs, columns)
    cats = boosted.categorical(specs)
    rounds = _rounds(x[rows], y[rows], cats)
    data = lgb.Dataset(x[rows], y[rows], categorical_feature=cats, free_raw_data=False)
    booster = lgb.train(GBM_PARAMS, data, num_boost_round=rounds)
    forest = prune_dump(booster.dump_model())
    return {"specs": specs, "forest": forest, "rounds": rounds, "digest": forest_digest(forest)}


def _rounds(x: F64, y: I64, cats: list[int]) -> int:
    """Rounds by early stopping (log-loss, smoother than AUC on few positives) in a stratified
    three-fold cross-validation of these rows."""
    import lightgbm as lgb

    if min(int(y.sum()), int((1 - y).sum())) < 15:
        return 100
    data = lgb.Dataset(x, y, categorical_feature=cats, free_raw_data=False)
    found = lgb.cv(
        {**GBM_PARAMS, "metric": "binary_logloss"}, data, num_boost_round=MAX_ROUNDS, nfold=3,
        stratified=True, seed=0, callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
    )  # fmt: skip
    curve: list[float] = found["valid binary_logloss-mean"]  # type: ignore[assignment]
    return max(20, len(curve))


def boosted_log_odds(model: Mapping[str, Any], columns: Columns, rows: I64) -> F64:
    """The stored model's log-odds for `rows`, evaluated as serving evaluates it."""
    from leadflow.core.trees import Forest

    x = boosted.encode(model["specs"], {k: [v[r] for r in rows] for k, v in columns.items()})
    return Forest(model["forest"]).explain(x).raw


def onehot_logistic(columns: Columns, y: I64, train: I64, test: I64) -> F64:
    """Logistic regression on every value one-hot (numbers standardised, blank as 0)."""
    parts = []
    for values in columns.values():
        parsed = scorecard.numeric(values)
        if parsed is not None:
            known = parsed[train][~np.isnan(parsed[train])]
            mean, spread = (known.mean(), known.std() or 1.0) if known.size else (0.0, 1.0)
            parts.append(np.nan_to_num((parsed - mean) / spread)[:, None])
            parts.append(np.isnan(parsed)[:, None].astype(np.float64))
            continue
        seen = sorted({(values[k] or "").strip() for k in train})
        index = {v: j for j, v in enumerate(seen)}
        block = np.zeros((len(values), len(seen)))
        for r, v in enumerate(values):
            j = index.get((v or "").strip())
            if j is not None:
                block[r, j] = 1.0
        parts.append(block)
    x = np.hstack(parts)
    scores: F64 = fit_logistic(x[train], y[train]).predict_proba(x[test])[:, 1]
    return scores


def naive_bayes(columns: Columns, y: I64, train: I64, test: I64) -> F64:
    """Naive Bayes on field frequencies: for each field, how often each value occurs among the
    won and among the lost (Laplace-smoothed), multiplied across fields with the prior; numbers
    are cut into quantile ranges first, blanks are a value of their own."""
    prior = float(y[train].mean())
    log_odds = np.full(test.size, np.log(prior / (1 - prior)))
    for name, values in columns.items():
        keys = _nb_keys(name, values, train)
        won = train[y[train] == 1]
        lost = train[y[train] == 0]
        distinct = sorted(set(keys[train].tolist()))
        n_values = len(distinct) + 1
        won_counts = dict.fromkeys(distinct, 0)
        lost_counts = dict.fromkeys(distinct, 0)
        for k in won:
            won_counts[keys[k]] += 1
        for k in lost:
            lost_counts[keys[k]] += 1
        for t, k in enumerate(test):
            key = keys[k]
            p_won = (won_counts.get(key, 0) + 1) / (won.size + n_values)
            p_lost = (lost_counts.get(key, 0) + 1) / (lost.size + n_values)
            log_odds[t] += np.log(p_won / p_lost)
    result: F64 = 1 / (1 + np.exp(-log_odds))
    return result


def _nb_keys(name: str, values: Sequence[str | None], train: I64) -> npt.NDArray[np.str_]:
    parsed = scorecard.numeric(values)
    if parsed is None:
        return np.array([(v or "").strip() for v in values])
    bins = scorecard.numeric_bins(name, parsed[train])
    keys = np.array([""] * len(values), dtype=object)
    for b in bins:
        inside = ~np.isnan(parsed)
        if b.low is not None:
            inside &= parsed >= b.low
        if b.high is not None:
            inside &= parsed < b.high
        keys[inside] = b.label()
    return keys.astype(str)


def hist_gradient_boosting(columns: Columns, y: I64, train: I64, test: I64) -> F64:
    """scikit-learn's histogram gradient boosting, text columns as its categories."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    matrix, categorical = [], []
    for values in columns.values():
        parsed = scorecard.numeric(values)
        if parsed is None:
            seen = [v for v, _ in _counts(values, train).most_common(250)]
            codes = {v: k for k, v in enumerate(seen)}
            parsed = np.array([codes.get((x or "").strip(), np.nan) for x in values])
            categorical.append(True)
        else:
            categorical.append(False)
        matrix.append(parsed)
    x = np.column_stack(matrix)
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=0)
    with threadpool_limits(1):  # OpenMP threads only spin on a shared two-core machine
        model.fit(x[train], y[train])
        scores: F64 = model.predict_proba(x[test])[:, 1]
    return scores


def _counts(values: Sequence[str | None], rows: I64) -> Any:
    from collections import Counter

    return Counter((values[k] or "").strip() for k in rows if (values[k] or "").strip())
