"""Conditions hold or not on any value a client can send: none raises."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.conditions import Condition, as_number, evaluate

NUMERIC = [
    Condition(field="budget", gte=500),
    Condition(field="budget", range=(10, 1000)),
    Condition(field="budget", equals=500),
    Condition(field="budget", in_=[500, "1000"]),
]

values = st.one_of(
    st.integers(),
    st.integers(min_value=10**300, max_value=10**4000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.sampled_from(["1e400", "-1e400", "inf", "NaN", "1" * 401, "1,000"]),
)


@given(value=values)
def test_no_value_makes_a_numeric_condition_raise(value: Any) -> None:
    for condition in NUMERIC:
        assert evaluate(condition, {"budget": value}) in (True, False)


def test_a_number_beyond_any_float_is_no_number() -> None:
    # A 401-digit integer from a trait: neither a huge budget nor a crash.
    assert as_number(10**400) is None
    assert as_number("1" * 401) is None
    assert as_number("1e400") is None
    assert not evaluate(Condition(field="budget", gte=500), {"budget": 10**400})


def test_ordinary_numbers_still_compare() -> None:
    assert as_number(2**70) == float(2**70)
    assert as_number("1,500") == 1500.0
    assert evaluate(Condition(field="budget", gte=500), {"budget": "1,500"})
