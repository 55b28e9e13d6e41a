"""Deciles of probability, the calibration gap, and the drift verdict, without a database."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leadflow.core import calibration as cal


def outcomes(groups: list[tuple[float, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(probability, leads, won) groups as arrays of predictions and outcomes."""
    p = np.concatenate([np.full(n, prob) for prob, n, _ in groups])
    won = np.concatenate([np.arange(n) < k for _, n, k in groups])
    return p, won


def test_deciles_hold_their_lower_edge_and_the_last_holds_one() -> None:
    p = np.array([0.0, 0.0999, 0.1, 0.3, 0.6, 0.7, 0.8999, 0.9, 1.0])
    assert cal.decile_of(p).tolist() == [1, 1, 2, 4, 7, 8, 9, 10, 10]
    # as the validation's comparisons put them: p >= k/10 and p < (k+1)/10
    for value in np.linspace(0, 1, 1001):
        k = next(k for k in range(10) if value >= k / 10 and (value < (k + 1) / 10 or k == 9))
        assert cal.decile_of(np.array([value]))[0] == k + 1
    assert cal.decile_label(7) == "60-70%"


def test_bins_and_the_expected_calibration_error_by_hand() -> None:
    p, won = outcomes([(0.2, 10, 2), (0.8, 30, 12)])  # right at 20%, 40 points high at 80%
    low, high = cal.bins(p, won)
    assert (low.decile, low.leads, low.won, low.actual) == (3, 10, 2.0, 0.2)
    assert (high.decile, high.leads, high.actual) == (9, 30, 0.4)
    assert high.gap == pytest.approx(0.4) and low.gap == pytest.approx(0.0)
    assert high.variance == pytest.approx(30 * 0.8 * 0.2)
    assert high.z == pytest.approx(0.4 * 30 / math.sqrt(4.8))
    # weighted by leads: (10 * 0 + 30 * 0.4) / 40
    assert cal.expected_calibration_error([low, high]) == pytest.approx(0.3)
    total = cal.overall([low, high])
    assert total is not None
    assert (total.leads, total.won) == (40, 14.0)
    assert total.predicted == pytest.approx((10 * 0.2 + 30 * 0.8) / 40)
    assert cal.overall([]) is None and cal.expected_calibration_error([]) is None


def test_a_model_predicting_certainties_has_no_z() -> None:
    [only] = cal.bins(np.ones(5), np.zeros(5, dtype=bool))
    assert only.variance == 0 and only.z is None


def test_stored_validation_rows_with_and_without_their_decile() -> None:
    rows = [{"decile": 1, "predicted": 0.1, "observed": 0.05, "n": 20},  # 0.0999.. rounded
            {"predicted": 0.45, "observed": 0.5, "n": 40}]  # an older model's row  # fmt: skip
    first, second = cal.stored_bins(rows)
    assert (first.decile, first.leads, first.won) == (1, 20, 1.0)
    assert (second.decile, second.actual) == (5, 0.5)


def test_predictions_of_this_model_are_known_by_their_base() -> None:
    mine = cal.from_model([-1.25, None, -1.25 + 1e-12, 0.3], -1.25)
    assert mine.tolist() == [True, False, True, False]


def test_calibrated_predictions_are_called_so() -> None:
    p, won = outcomes([(0.15, 40, 6), (0.55, 40, 22), (0.85, 20, 17)])
    found = cal.verdict(cal.bins(p, won), "2026-11-01")
    assert found.status == "calibrated"
    assert found.text == ("Predictions still match outcomes since 2026-11-01: predicted 45% "
                          "on average, 45% won (100 leads).")  # fmt: skip


def test_predictions_that_run_high_are_drift_with_the_points() -> None:
    p, won = outcomes([(0.55, 60, 20), (0.75, 40, 20)])  # predicted 63%, won 40%
    found = cal.verdict(cal.bins(p, won), "2026-11-01")
    assert found.status == "drifted"
    assert found.text == (
        "Predictions run 23 points high since 2026-11-01: predicted 63% on average, 40% won "
        "(100 leads). Retrain: leadflow model train."
    )
    low = cal.verdict(cal.bins(*outcomes([(0.1, 100, 30)])), "2026-11-01")
    assert low.status == "drifted" and "20 points low" in low.text


def test_a_decile_off_both_ways_is_drift_though_the_average_holds() -> None:
    # Over-confident: the 10-20% leads win 50%, the 80-90% leads 56%: the mean is about right
    p, won = outcomes([(0.15, 50, 25), (0.85, 50, 28)])
    assert abs(cal.overall(cal.bins(p, won)).gap) < cal.OVERALL_GAP  # type: ignore[union-attr]
    found = cal.verdict(cal.bins(p, won), "2026-11-01")
    assert found == cal.Verdict(
        "drifted",
        "Predictions of 10-20% run 35 points low since "
        "2026-11-01: 50% of 50 leads won. Retrain: leadflow model train.",
    )


def test_a_small_gap_or_one_within_chance_is_not_drift() -> None:
    # 4 points high on 2,000 leads: certain, but too small to act on
    assert cal.verdict(cal.bins(*outcomes([(0.5, 2000, 920)])), "d").status == "calibrated"
    # 10 points high on 40 leads: large, but within chance (z about 1.3)
    assert cal.verdict(cal.bins(*outcomes([(0.5, 40, 16)])), "d").status == "calibrated"


def test_too_few_outcomes_are_not_judged() -> None:
    found = cal.verdict(cal.bins(*outcomes([(0.9, 29, 0)])), "2026-11-01")
    assert found == cal.Verdict(
        "too_few",
        "29 outcomes since 2026-11-01 with this model's "
        "prediction: at least 30 are needed to judge its calibration.",
    )
    assert cal.verdict([], "2026-11-01").text.startswith("0 outcomes since")


def test_the_points_said_are_the_reported_gap_not_its_float_noise() -> None:
    # Predicted 50% against 27.5% won: a gap of 22.5 points, which a fitted model's last bits
    # put a hair either side of; the sentence says what the reported gap (4 places) rounds to.
    said = []
    for noise in (-1e-15, 0.0, 1e-15):
        p, won = outcomes([(0.5 + noise, 200, 55)])
        found = cal.verdict(cal.bins(p, won), "2026-11-01")
        said.append(found.text.split(" since")[0])
    assert said == ["Predictions run 22 points high"] * 3
