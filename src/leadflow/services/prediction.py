"""Serving the active model: a probability, its log-odds split by feature, and three reasons.

The request path (live scoring, `services/pipeline.py`) imports this module and never a
learner: a logistic scorecard is a dot product over its bins, a boosted model is evaluated from
its stored trees by `core/trees.py` (NumPy), with exact TreeSHAP contributions. Either way the
contributions plus `base` are the probability's log-odds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from leadflow.core import boosted, scorecard
from leadflow.core.scorecard_serving import Compiled
from leadflow.core.trees import Forest, forest_digest
from leadflow.models.lead import Lead
from leadflow.models.prediction import PredictiveModel
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import predictive_models as model_repo
from leadflow.repositories import training

ATTRIBUTES = ("title", "country", "source", "industry", "tier", "employees", "annual_revenue",
              "has_company")  # fmt: skip
BOOSTED = "gradient boosting"
SCORECARD = "logistic scorecard"
Columns = Mapping[str, Sequence[str | None]]
Behaviour = tuple[int, str, int]  # (lead id, kind such as "page /pricing", how many times)
# By the trees' digest, not the model's id: one process may serve several databases (a
# restore, tests), whose first models all have id 1.
_FORESTS: dict[str, tuple[Forest, boosted.Encoder]] = {}
_SCORECARDS: dict[
    tuple[float, ...], tuple[list[scorecard.Bin], Compiled, npt.NDArray[np.float64]]
] = {}


@dataclass(frozen=True, slots=True)
class Explanation:
    """One lead's prediction: base + sum(contributions) == log_odds."""

    base: float
    contributions: dict[str, float]
    log_odds: float

    @property
    def probability(self) -> float:
        return 1 / (1 + math.exp(-self.log_odds))

    def stored(self) -> dict[str, Any]:
        return {"base": self.base, "log_odds": self.log_odds, "contributions": self.contributions}

    def reasons(self) -> list[str]:
        """The three contributions that weigh most, with their direction."""
        top = sorted(self.contributions.items(), key=lambda kv: -abs(kv[1]))[:3]
        return [f"{name} ({'+' if v > 0 else '-'})" for name, v in top
                if v != 0 and math.isfinite(v)]  # fmt: skip


def columns_for(
    rows: list[dict[str, Any]], counts: Sequence[Behaviour], behaviours: list[str]
) -> dict[str, list[str | None]]:
    """Attributes and behaviour counts as text columns, one row per lead."""
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


def _forest(model: PredictiveModel) -> tuple[Forest, boosted.Encoder]:
    """The stored trees, evaluated for serving, and the encoder of their features; cached by
    the trees' digest (never the model's id, which every fresh database reuses)."""
    assert model.trees is not None
    # Models stored before digests existed are named on each read (slower, still right).
    digest = model.trees.get("digest") or forest_digest(model.trees["forest"])
    found = _FORESTS.get(digest)
    if found is None:
        found = _FORESTS[digest] = (
            Forest(model.trees["forest"]),
            boosted.Encoder(model.trees["specs"]),
        )
    return found


def _scorecard(
    model: PredictiveModel,
) -> tuple[list[scorecard.Bin], Compiled, npt.NDArray[np.float64]]:
    """A stored scorecard's bins, compiled for serving, and weights; cached by what it is
    (its intercept and weights, fitted floats: a fingerprint no two models share), never by
    its id, which every fresh database reuses."""
    key = (model.intercept, *model.weights)
    found = _SCORECARDS.get(key)
    if found is None:
        if len(_SCORECARDS) > 16:  # a few versions in use at once; drop the old ones
            _SCORECARDS.clear()
        bins = [scorecard.from_stored(b) for b in model.bins]
        found = _SCORECARDS[key] = (bins, Compiled(bins), np.asarray(model.weights))
    return found


def explain(
    model: PredictiveModel, columns: Mapping[str, Sequence[str | None]]
) -> list[Explanation]:
    """Each row's log-odds and its contributions, from the stored model."""
    if model.kind == BOOSTED:
        return _explain_boosted(model, columns)
    _, compiled, weights = _scorecard(model)
    weighed = compiled.design(columns) * weights
    found = []
    for row in weighed:
        parts: dict[str, float] = {}
        for j in np.flatnonzero(row):  # two bins may read alike ("is blank"): both count
            parts[compiled.labels[j]] = parts.get(compiled.labels[j], 0.0) + float(row[j])
        found.append(Explanation(model.intercept, parts, model.intercept + float(row.sum())))
    return found


def _explain_boosted(model: PredictiveModel, columns: Columns) -> list[Explanation]:
    assert model.trees is not None
    specs = model.trees["specs"]
    forest, encoder = _forest(model)
    explained = forest.explain(encoder.encode(columns))
    found = []
    for r, row in enumerate(explained.contributions):
        parts: dict[str, float] = {}
        for j in np.flatnonzero(row):
            name = boosted.label(specs[j], columns[specs[j]["column"]][r])
            parts[name] = parts.get(name, 0.0) + float(row[j])
        log_odds = explained.base + math.fsum(parts.values())
        found.append(Explanation(explained.base, parts, log_odds))
    return found


def base_of(model: PredictiveModel) -> float:
    """The log-odds every explanation of this model starts from (`Explanation.base`): what
    tells its predictions from another model's once stored on leads."""
    if model.kind == BOOSTED:
        return _forest(model)[0].base
    return model.intercept


def log_odds(
    model: PredictiveModel, columns: Mapping[str, Sequence[str | None]]
) -> npt.NDArray[np.float64]:
    """Only the log-odds (for measuring a stored model on new outcomes)."""
    return np.array([e.log_odds for e in explain(model, columns)])


def _store(lead: Lead, found: Explanation) -> None:
    lead.probability = round(found.probability, 4)
    lead.probability_reasons = found.reasons()
    lead.probability_contributions = found.stored()


def refresh_many(session: Session, model: PredictiveModel, lead_ids: Sequence[int] | None) -> int:
    """Probability, contributions and reasons (no retraining), as `refresh` gives them, for
    each of these leads (every lead when None) without an outcome, as live scoring refreshes
    a lead it scores: when a model is served, and as the bulk path's first step, so a rule
    on `probability` reads the same fact on every path. Flushed, for the bulk reads that
    follow. How many."""
    refreshed = _score_undecided(session, model, training.undecided_leads(session, lead_ids))
    session.flush()
    return refreshed


def _score_undecided(session: Session, model: PredictiveModel, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    counts = training.open_behaviour(session, [r["id"] for r in rows])
    columns = columns_for(rows, counts, list(model.behaviours))
    leads = {lead.id: lead for lead in lead_repo.get_many(session, [r["id"] for r in rows])}
    for row, found in zip(rows, explain(model, columns), strict=True):
        _store(leads[row["id"]], found)
    return len(rows)


def behaviour_counts(session: Session, lead_ids: Sequence[int]) -> dict[int, list[Behaviour]]:
    """Each lead's behaviour so far, counted in the database as training counts it (one
    grouped query: the cost of an event does not grow with the lead's past in Python)."""
    found: dict[int, list[Behaviour]] = defaultdict(list)
    for row in training.open_behaviour(session, lead_ids):
        found[row[0]].append(row)
    return found


def lead_row(lead: Lead, account: Any) -> dict[str, Any]:
    """The attributes the model reads, from a lead and its account."""
    return {"id": lead.id, "title": lead.title, "country": lead.country, "source": lead.source,
            "industry": account.industry if account else None,
            "tier": account.tier if account else None,
            "employees": account.employees if account else None,
            "annual_revenue": account.annual_revenue if account else None,
            "has_company": "yes" if lead.account_id else "no"}  # fmt: skip


def refresh(model: PredictiveModel, lead: Lead, account: Any, counts: Sequence[Behaviour]) -> None:
    """The lead's probability, contributions and reasons now (scoring, not retraining), from
    its behaviour counts (`behaviour_counts`)."""
    columns = columns_for([lead_row(lead, account)], counts, list(model.behaviours))
    _store(lead, explain(model, columns)[0])


def active_or_none(session: Session) -> PredictiveModel | None:
    """The model live scoring uses, if one has been trained and served."""
    return model_repo.active(session)


def latest_or_none(session: Session) -> PredictiveModel | None:
    """The newest model trained, served or not."""
    return model_repo.latest(session)


def serving(session: Session, model_id: int | None) -> PredictiveModel | None:
    """The serving model by its id (as the live snapshot read it): taken from the session
    when this session has loaded it before, so requests sharing a transaction load it once."""
    return None if model_id is None else model_repo.get(session, model_id)
