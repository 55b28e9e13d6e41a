"""The revenue plan's arithmetic, worked by hand."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.periods import current_period, elapsed_share, months_between, parse_period
from leadflow.core.plan import NOT_A_SHARE, pacing, parse_rates, required_counts, sensitivity

RATES = {"visit": 0.02, "lead": 0.5, "mql": 0.4, "sql": 0.25, "opportunity": 0.2}


def test_the_seed_rule_five_percent_means_twenty_times_the_customers() -> None:
    needed = required_counts(1_000_000, 10_000, RATES)
    assert needed["customer"] == 100
    assert needed["sql"] == 20 * needed["customer"]  # 25% x 20% = 5% of SQLs become customers
    assert needed == {"visit": 500_000, "lead": 10_000, "mql": 5_000, "sql": 2_000,
                      "opportunity": 500, "customer": 100}  # fmt: skip


def test_counts_round_up_to_whole_leads_without_float_noise() -> None:
    # 100 / 0.2 is 500.00000000000006 in floats; the plan must not ask for 501.
    assert required_counts(1_000_000, 10_000, RATES)["opportunity"] == 500
    odd = required_counts(1_050, 100, {**RATES, "opportunity": 0.3})
    assert odd["customer"] == 11  # 10.5 deals is 11
    assert odd["opportunity"] == 37  # 11 / 0.3 = 36.67


def test_bad_rates_and_amounts_are_named() -> None:
    with pytest.raises(ValueError, match="STAGE one of visit, lead, mql, sql, opportunity"):
        parse_rates(["customer=0.5"])
    with pytest.raises(ValueError, match="'mql=abc': the rate must be a number"):
        parse_rates(["mql=abc"])
    with pytest.raises(ValueError, match="between 0"):
        parse_rates(["mql=40"])
    assert parse_rates(["MQL=0.4", "sql=.25"]) == {"mql": 0.4, "sql": 0.25}
    with pytest.raises(ValueError, match="positive"):
        required_counts(0, 10, RATES)


def test_one_point_of_conversion_is_worth_what_it_brings() -> None:
    rows = {row["stage"]: row for row in sensitivity(1_000_000, 10_000, RATES)}
    # 500,000 visits x 0.02 x 0.5 x 0.4 x 0.26 x 0.2 x 10,000 = 1,040,000
    assert rows["sql"]["extra_revenue"] == 40_000.0
    assert rows["sql"]["fewer_visits_needed"] == 500_000 - 480_770  # ceil(100/0.2/0.26/...)
    # A point on a 2% step is half as much again: 3% x ... = 1.5 x the goal
    assert rows["visit"]["extra_revenue"] == 500_000.0


@pytest.mark.parametrize("rate", [4.0, 1.5, 0.0, -0.2, float("nan"), float("inf")])
def test_the_arithmetic_refuses_a_rate_that_is_no_share(rate: float) -> None:
    """The core took 4.0 (400%) as a rate: 'one more point' of it was min(1.0, 4.01), a
    lower rate worth -750,000, and the plan needed fewer visits than leads; 0 divided by
    zero, a negative rate asked for negative visits. Only the plan service guarded."""
    rates = {**RATES, "visit": rate}
    with pytest.raises(ValueError, match=re.escape(f"visit: {NOT_A_SHARE}, not {rate!r}")):
        required_counts(1_000_000, 10_000, rates)
    with pytest.raises(ValueError, match=re.escape(f"visit: {NOT_A_SHARE}, not {rate!r}")):
        sensitivity(1_000_000, 10_000, rates)
    with pytest.raises(ValueError, match="opportunity: no rate"):
        required_counts(1_000_000, 10_000, {s: r for s, r in RATES.items() if s != "opportunity"})
    for goal in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive"):
            required_counts(goal, 10_000, RATES)


shares = st.floats(min_value=1e-3, max_value=1.0, exclude_min=True)


@given(
    st.fixed_dictionaries(dict.fromkeys(RATES, shares)),
    st.integers(1, 10**9),
    st.integers(1, 10**6),
)
def test_one_more_point_never_lowers_a_rate_nor_the_revenue(
    rates: dict[str, float], goal: int, deal_size: int
) -> None:
    """For every rate the core accepts, one more point is at least the rate (capped at 1),
    brings at least the goal and never needs more visits."""
    for row in sensitivity(goal, deal_size, rates):
        rate = rates[str(row["stage"])]
        assert row["plus_one_point"] == min(1.0, rate + 0.01) >= rate
        assert float(row["extra_revenue"]) >= 0
        assert int(row["fewer_visits_needed"]) >= 0


def test_pacing_against_the_share_of_the_period_gone() -> None:
    assert pacing(30, 100, 0.25) == {"due_by_now": 25.0, "projected": 120.0, "on_pace": True}
    assert pacing(10, 100, 0.5)["on_pace"] is False
    assert pacing(0, 100, 0.0)["projected"] is None


def test_periods() -> None:
    assert parse_period("2026-11") == (datetime(2026, 11, 1, tzinfo=UTC),
                                       datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip
    assert parse_period("2026-Q4")[1] == datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_period("2026") == (datetime(2026, 1, 1, tzinfo=UTC),
                                    datetime(2027, 1, 1, tzinfo=UTC))  # fmt: skip
    with pytest.raises(ValueError, match="expected a month"):
        parse_period("Q4")
    now = datetime(2026, 11, 16, tzinfo=UTC)
    assert (current_period("quarter", now), current_period("month", now)) == ("2026-Q4", "2026-11")
    assert elapsed_share(*parse_period("2026-11"), now) == 0.5


def test_months_between_counts_parts_of_months_by_their_share() -> None:
    def at(month: int, day: int, year: int = 2026) -> datetime:
        return datetime(year, month, day, tzinfo=UTC)

    assert months_between(*parse_period("2026-Q4")) == 3
    assert months_between(*parse_period("2026")) == 12
    assert months_between(at(9, 4), at(9, 19)) == 0.5  # half of September's 30 days
    assert months_between(at(9, 16), at(10, 16)) == pytest.approx(15 / 30 + 15 / 31)
    assert months_between(at(11, 16), at(2, 1, 2027)) == 2.5
    assert months_between(at(10, 1), at(9, 1)) == months_between(at(9, 1), at(9, 1)) == 0


def test_the_mql_share_for_a_target_precision() -> None:
    from leadflow.core.scorecard import share_for_precision

    scores = np.array([9.0, 8.0, 7.0, 6.0, 5.0])
    won = np.array([1, 1, 0, 1, 0])
    # best first: 1/1, 2/2, 2/3, 3/4, 3/5 -> at least 0.75 holds up to the fourth lead
    assert share_for_precision(scores, won, 0.75) == 0.8
    assert share_for_precision(scores, won, 1.0) == 0.4
    assert share_for_precision(scores, np.zeros(5, dtype=np.int64), 0.5) is None
