"""`leadflow tune --history FILE.csv`: a playbook proposed from a CRM export's outcomes.

The proposal is a scorecard (see core/scorecard.py): a regularised logistic regression on
binned attributes, its weights turned into points. Everything reported is measured out of
sample: on each of five stratified folds the bins, the models and the points are fitted on the
other four and scored on the held-out one, so nothing is measured on rows it was fitted to:
`scorecard_auc` (the logistic model), `gbm_auc` (the LightGBM model `model train` can serve),
`auc` and `model` (the better of the two), `playbook_auc` (the scorecard's points, rounded, as a
playbook would add them) and `baselines` (services/learners.py) all on the same folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from leadflow.core import scorecard
from leadflow.core.errors import Invalid
from leadflow.core.playbook_text import declaring_what_it_reads, parse_playbook
from leadflow.core.plural import counted
from leadflow.core.records import canonical_header
from leadflow.services import learners
from leadflow.services.files import RowError, open_table
from leadflow.services.prediction import BOOSTED, SCORECARD

FOLDS = 5
# Measured on the same folds as the models, for comparison (`tune --history --json`).
BASELINES = {
    "logistic one-hot": learners.onehot_logistic,
    "naive Bayes on field frequencies": learners.naive_bayes,
    "gradient boosting (scikit-learn)": learners.hist_gradient_boosting,
}
# A rule worth fewer points than this (under a fifth of a doubling of the odds) is left out:
# it halves the proposal's length for about 0.003 of AUC on those exports.
LEAST_POINTS = 3.0
MIN_CLASS = 30  # outcomes of each kind below which a model would be guessing
POSITIVE = {"1", "1.0", "true", "t", "yes", "y", "won", "closed won", "customer", "converted"}
NEGATIVE = {"0", "0.0", "false", "f", "no", "n", "lost", "closed lost", "disqualified",
            "not converted"}  # fmt: skip
ACCOUNT_FIELDS = {"employees", "industry", "annual_revenue"}
LEAD_FIELDS = {"title", "country", "source", "medium", "campaign", "phone", "first_name",
               "last_name"}  # fmt: skip


class ColdStart(Invalid):
    """Too few outcomes to learn from: says how many there are and how many are needed."""


@dataclass(frozen=True, slots=True)
class History:
    """A CRM export: its usable columns and the outcome of every row."""

    columns: dict[str, list[str | None]]
    outcome: npt.NDArray[np.int64]
    skipped: dict[str, str]
    read_as: str = ""


def load_history(
    path: Path,
    target: str,
    exclude: Sequence[str],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> History:
    """Read the file; Invalid names a missing target, a non-binary outcome or a bad file.

    Rows whose outcome is missing (empty, `N/A`, ...) are left out and counted in `skipped`.
    """
    table = open_table(path, encoding=encoding, delimiter=delimiter, raw_headers=True)
    try:
        numbered = list(table.rows)
    except RowError as bad:  # as the outcome's errors are told: FILE:LINE: reason
        raise Invalid(f"{path}:{bad.line}: {bad.reason}") from None
    headers = table.headers or list(dict.fromkeys(k for _, row in numbered for k in row))
    if target not in headers:
        found = f"columns: {', '.join(headers)}" if headers else "the file holds no columns"
        raise Invalid(f"{path}: no column {target!r}{'; ' if headers else ': '}{found}")
    missing = [c for c in exclude if c not in headers]
    if missing:
        raise Invalid(f"--exclude: no column {', '.join(map(repr, missing))} in {path}")
    outcome, rows = [], []
    for line, row in numbered:
        value = row.get(target)
        if value is None:
            continue
        outcome.append(outcome_of(path, line, target, value))
        rows.append(row)
    columns: dict[str, list[str | None]] = {}
    skipped: dict[str, str] = {}
    if len(rows) < len(numbered):
        skipped[target] = f"{counted(len(numbered) - len(rows), 'row')} with no outcome left out"
    for name in headers:
        if name == target or name in exclude:
            continue
        values: list[str | None] = [_text(row.get(name)) for row in rows]
        reason = _unusable(values)
        if reason:
            skipped[name] = reason
        else:
            columns[name] = values
    return History(columns, np.asarray(outcome, dtype=np.int64), skipped, table.how)


def outcome_of(path: Path, line: int, target: str, value: object) -> int:
    """1 for a won outcome, 0 for a lost one, in any of the spellings CRMs export."""
    text = str(value).strip().casefold().replace("_", " ").replace("-", " ")
    if text in POSITIVE:
        return 1
    if text in NEGATIVE:
        return 0
    raise Invalid(
        f"{path}:{line}: {target} is {value!r}; an outcome must be yes or no "
        f"({', '.join(sorted(POSITIVE))} / {', '.join(sorted(NEGATIVE))})"
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _unusable(values: list[str | None]) -> str | None:
    filled = [v.strip() for v in values if v and v.strip()]
    if not filled:
        return "empty"
    distinct = len(set(filled))
    if distinct == 1:
        return "one value only"
    if scorecard.numeric(values) is None and distinct > max(50, 0.5 * len(filled)):
        return "an identifier (almost every value different)"
    return None


def check_outcomes(outcome: npt.NDArray[np.int64]) -> None:
    won, lost = int(outcome.sum()), int((1 - outcome).sum())
    if min(won, lost) < MIN_CLASS:
        raise ColdStart(
            f"{won} converted and {lost} not: at least {MIN_CLASS} of each are needed to learn "
            "from; until then keep the playbook's rules"
        )


def tune_history(
    path: Path,
    target: str,
    exclude: Sequence[str],
    *,
    mql_share: float = 0.2,
    precision: float | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> dict[str, Any]:
    """The out-of-sample evaluation, the proposed rules and the playbook text."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    history = load_history(path, target, exclude, encoding=encoding, delimiter=delimiter)
    if not history.columns:
        raise Invalid(f"{path}: no usable columns besides {target!r}")
    y = history.outcome
    check_outcomes(y)
    model_scores, card_scores, gbm_scores = (np.zeros(y.size) for _ in range(3))
    baselines = {name: np.zeros(y.size) for name in BASELINES}
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    for train, test in folds.split(np.zeros(y.size), y):
        bins = learners.scorecard_bins(history.columns, train)
        x = scorecard.design(bins, history.columns)
        fitted = learners.fit_scorecard(x[train], y[train])
        model_scores[test] = fitted.predict_proba(x[test])[:, 1]
        card_scores[test] = x[test] @ scorecard.points(fitted.coef_[0], LEAST_POINTS)
        forest = learners.fit_boosted(history.columns, y, train)
        gbm_scores[test] = learners.boosted_log_odds(forest, history.columns, test)
        for name, baseline in BASELINES.items():
            baselines[name][test] = baseline(history.columns, y, train, test)
    aucs = {kind: round(float(roc_auc_score(y, s)), 4)
            for kind, s in ((SCORECARD, model_scores), (BOOSTED, gbm_scores))}  # fmt: skip
    won = BOOSTED if aucs[BOOSTED] > aucs[SCORECARD] else SCORECARD
    everything = np.arange(y.size)
    bins = learners.scorecard_bins(history.columns, everything)
    final = learners.fit_scorecard(scorecard.design(bins, history.columns), y)
    awarded = scorecard.points(final.coef_[0], LEAST_POINTS)
    mql_share = target_share(card_scores, y, mql_share, precision)
    threshold = float(np.quantile(card_scores, 1 - mql_share))
    chosen = card_scores >= threshold
    rules: list[dict[str, Any]] = [
        {"id": _rule_id(b), "label": b.label(), "points": float(p), "when": _condition(b)}
        for b, p in scorecard.condense(bins, [float(p) for p in awarded])
    ]
    rules.sort(key=lambda r: -abs(float(r["points"])))
    final_scores = scorecard.design(bins, history.columns) @ awarded
    text = playbook_text(path.name, rules, float(np.quantile(final_scores, 1 - mql_share)),
                         final_scores)  # fmt: skip
    return {
        "rows": int(y.size), "converted": int(y.sum()), "folds": FOLDS,
        "auc": aucs[won], "model": won, "scorecard_auc": aucs[SCORECARD],
        "playbook_auc": round(float(roc_auc_score(y, card_scores)), 4),
        "gbm_auc": aucs[BOOSTED],
        "baselines": {name: round(float(roc_auc_score(y, s)), 4) for name, s in baselines.items()},
        "pr_auc": round(float(average_precision_score(
            y, gbm_scores if won == BOOSTED else model_scores)), 4),
        "columns": list(history.columns), "skipped": history.skipped,
        "read_as": history.read_as,
        "backtest": {
            "mql_share": round(mql_share, 4), "precision_target": precision,
            "mqls": int(chosen.sum()),
            "mql_conversion": round(float(y[chosen].mean()), 4) if chosen.any() else None,
            "base_conversion": round(float(y.mean()), 4),
            "customers_caught": int(y[chosen].sum()),
            "customers": int(y.sum()),
        },
        "rules": rules, "playbook": text,
    }  # fmt: skip


def target_share(
    scores: npt.NDArray[np.float64], y: npt.NDArray[np.int64], share: float,
    precision: float | None,
) -> float:  # fmt: skip
    """The MQL share asked for, or the largest one whose out-of-sample conversion reaches
    `precision`."""
    if precision is None:
        return share
    found = scorecard.share_for_precision(scores, y, precision)
    if found is None:
        raise Invalid(
            f"--precision {precision:g}: not even the best-scored leads convert that well"
        )
    return found


def _field(column: str) -> str:
    """Where an imported CSV column lands in leadflow's facts."""
    name = canonical_header(column)
    if name in ACCOUNT_FIELDS:
        return f"account.{name}"
    return name


def _condition(b: scorecard.Bin) -> dict[str, Any]:
    if b.value is not None:
        return {"field": _field(b.column), "equals": _typed(b.value)}
    if b.values:
        return {"field": _field(b.column), "in": list(b.values)}
    return scorecard.condition(_field(b.column), b)


def _typed(value: str) -> Any:
    return {"true": True, "false": False}.get(value.lower(), value)


def _rule_id(b: scorecard.Bin) -> str:
    return scorecard.slug(b.label())


def playbook_text(
    source: str, rules: list[dict[str, Any]], mql_at: float, scores: npt.NDArray[np.float64]
) -> str:
    """The proposal as a playbook a person can read, edit and apply; validated here."""
    seen: set[str] = set()
    for rule in rules:  # ids must be unique: two labels can slug alike
        base, k = rule["id"], 2
        while rule["id"] in seen:
            rule["id"], k = f"{base}_{k}", k + 1
        seen.add(rule["id"])
    cut = scorecard.grade_cutoffs(scores, ("A", "B", "C"))
    document = {
        "name": f"Proposed from {source}",
        "description": (
            f"Fit points learned from {source} by `leadflow tune`: each rule's points are its "
            f"log-odds of converting, {scorecard.POINTS_TO_DOUBLE_ODDS:g} points per doubling. "
            "Review them with both teams before applying."
        ),
        "fit": {"rules": [{k: r[k] for k in ("id", "label", "points", "when")} for r in rules]},
        "grade": {"fit": cut},
        "lifecycle": {"mql": {"field": "fit", "gte": round(mql_at, 1)}},
    }
    document = declaring_what_it_reads(document)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    parse_playbook(text)  # a proposal that would not validate is a bug, not a suggestion
    return text
