"""`core/trees.py`: the stored forest evaluated in NumPy equals LightGBM's own predictions and
TreeSHAP contributions, and the contributions add up to the log-odds."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from leadflow.core import boosted
from leadflow.core.trees import Forest, prune_dump


def _data(rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = np.column_stack([
        rng.normal(size=rows), rng.integers(0, 12, rows).astype(float),
        rng.exponential(size=rows), rng.integers(0, 3, rows).astype(float),
    ])  # fmt: skip
    x[rng.random(rows) < 0.2, 0] = np.nan  # missing numbers
    x[rng.random(rows) < 0.2, 1] = np.nan  # missing categories
    x[rng.random(rows) < 0.3, 2] = 0.0
    signal = np.sin(np.nan_to_num(x[:, 1])) + np.nan_to_num(x[:, 0]) * (x[:, 3] == 1) + x[:, 2]
    y = (rng.random(rows) < 1 / (1 + np.exp(-signal))).astype(int)
    return x, y


@pytest.mark.parametrize(
    "params",
    [{"num_leaves": 7, "max_depth": 3}, {"num_leaves": 15, "max_depth": 6},
     {"num_leaves": 4, "max_depth": 2, "zero_as_missing": True}],
)  # fmt: skip
def test_the_forest_equals_lightgbm_predict_and_pred_contrib(params: dict[str, object]) -> None:
    x, y = _data()
    data = lgb.Dataset(x, y, categorical_feature=[1, 3], free_raw_data=False)
    settings = {"objective": "binary", "verbose": -1, "min_data_per_group": 5,
                "min_data_in_leaf": 5, "seed": 0, **params}  # fmt: skip
    booster = lgb.train(settings, data, num_boost_round=25)
    forest = Forest(prune_dump(booster.dump_model()))
    probe = x.copy()
    probe[:5, 1] = 40.0  # a category never seen
    probe[5:8, 3] = -1.0  # a negative category
    probe[8:12, 0] = 0.0
    found = forest.explain(probe)
    contrib = booster.predict(probe, pred_contrib=True)
    assert np.allclose(found.raw, booster.predict(probe, raw_score=True), rtol=0, atol=1e-12)
    assert np.allclose(found.contributions, contrib[:, :-1], rtol=0, atol=1e-12)
    assert found.base == pytest.approx(contrib[0, -1], abs=1e-12)
    added = found.base + found.contributions.sum(axis=1)
    assert np.allclose(added, found.raw, rtol=0, atol=1e-12)
    one = forest.explain(probe[3])  # one row, as live refresh asks
    assert np.allclose(one.contributions[0], contrib[3, :-1], rtol=0, atol=1e-12)


def test_a_forest_of_stumps_and_single_leaves() -> None:
    x, y = _data(120)
    data = lgb.Dataset(x[:, :1], y, free_raw_data=False)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 2,
                         "min_data_in_leaf": 200}, data, num_boost_round=3)  # fmt: skip
    forest = Forest(prune_dump(booster.dump_model()))
    found = forest.explain(x[:, :1])
    assert np.allclose(found.raw, booster.predict(x[:, :1], raw_score=True), atol=1e-12)
    assert np.all(found.contributions == 0)  # no split: everything is in the base


def test_text_columns_become_categories_rare_and_blank_values_apart() -> None:
    columns = {"title": ["CEO", "CEO", "Intern", None, "Pope", "CEO"],
               "visits": ["1", "2", "", "4", "5", "6"]}  # fmt: skip
    specs = boosted.specs_for(columns, np.arange(6))
    specs[0]["values"] = ["CEO", "Intern"]  # as if both were frequent enough
    assert specs[1] == {"column": "visits", "numeric": True}
    x = boosted.encode(specs, columns)
    assert x[:, 0].tolist()[:3] == [0.0, 0.0, 1.0] and np.isnan(x[3, 0]) and x[4, 0] == 2.0
    assert np.isnan(x[2, 1]) and x[5, 1] == 6.0
    assert boosted.label(specs[0], "Pope") == "title is a rare value"
    assert boosted.label(specs[0], None) == "title unknown"
    assert boosted.categorical(specs) == [0]
