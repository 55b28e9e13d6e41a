"""Rates, the waterfall, deciles and ROC-AUC."""

from __future__ import annotations

import numpy as np

from leadflow.core.report_math import Rate, decile_of, reached_counts, roc_auc, step_rates
from leadflow.core.stages import Stage


def test_a_lead_that_skipped_a_stage_still_passed_it() -> None:
    # furthest ranks: 2 leads stopped at lead (1), 1 at mql (2), 1 jumped to sql (3)
    reached = reached_counts({1: 2, 2: 1, 3: 1})
    assert reached == {Stage.LEAD: 4, Stage.MQL: 2, Stage.SQL: 1, Stage.OPPORTUNITY: 0,
                       Stage.CUSTOMER: 0}  # fmt: skip
    rates = step_rates(reached)
    assert (rates[Stage.LEAD].value, rates[Stage.MQL].value) == (0.5, 0.5)
    assert rates[Stage.OPPORTUNITY].value is None and Stage.CUSTOMER not in rates


def test_rates_carry_their_sample_size() -> None:
    assert Rate(1, 3).as_dict() == {"rate": 0.3333, "n": 3, "small_sample": True}
    assert Rate(30, 60).small_sample is False


def test_roc_auc_counts_ties_as_half() -> None:
    scores = np.array([10.0, 20.0, 20.0, 30.0])
    won = np.array([False, False, True, True])
    # pairs (won, lost): (20,10) 1, (20,20) 0.5, (30,10) 1, (30,20) 1 -> 3.5 / 4
    assert roc_auc(scores, won) == 0.875
    assert roc_auc(scores, np.ones(4, dtype=bool)) is None


def test_deciles_split_scores_evenly() -> None:
    deciles = decile_of(np.arange(100, dtype=np.float64))
    assert np.bincount(deciles)[1:].tolist() == [10] * 10
