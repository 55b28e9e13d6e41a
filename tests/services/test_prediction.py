"""Serving a stored model: the probability comes from the model given, never from another."""

from __future__ import annotations

import numpy as np

from leadflow.models import PredictiveModel
from leadflow.services import learners, prediction

BASE = {"country": "US", "source": "google", "industry": "Software", "tier": None,
        "employees": "120", "annual_revenue": None, "has_company": "yes"}  # fmt: skip


def _boosted(buyer: str) -> PredictiveModel:
    """Model id 1 (as in every fresh database) where `buyer` titles buy and others do not."""
    titles = ["VP Operations", "Intern"] * 60
    columns = prediction.columns_for(
        [{**BASE, "id": n, "title": t} for n, t in enumerate(titles)], [], []
    )
    y = np.array([1 if t == buyer else 0 for t in titles], dtype=np.int64)
    y[:6] = 1 - y[:6]  # not a perfect split: the model still has a slope to learn
    trees = learners.fit_boosted(columns, y, np.arange(y.size))
    return PredictiveModel(id=1, version=1, kind=prediction.BOOSTED, bins=[], weights=[],
                           intercept=0.0, behaviours=[], metrics={}, trees=trees)  # fmt: skip


def _chance(model: PredictiveModel, title: str) -> float:
    columns = prediction.columns_for([{**BASE, "id": 0, "title": title}], [], [])
    [found] = prediction.explain(model, columns)
    return found.probability


def test_two_databases_with_the_same_model_id_each_serve_their_own_model() -> None:
    # One process can serve several databases (tests, a restore, a second company); their
    # first models share id 1 and must not share trees.
    seniors_buy, juniors_buy = _boosted("VP Operations"), _boosted("Intern")
    assert _chance(seniors_buy, "VP Operations") > _chance(seniors_buy, "Intern")
    assert _chance(juniors_buy, "Intern") > _chance(juniors_buy, "VP Operations")


def test_a_model_stored_before_digests_is_still_served_from_its_own_trees() -> None:
    model = _boosted("Intern")
    expected = _chance(model, "Intern")
    assert model.trees is not None
    model.trees = {k: v for k, v in model.trees.items() if k != "digest"}
    assert _chance(model, "Intern") == expected
