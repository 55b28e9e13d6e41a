"""An amount refused names what was typed, shortened when long, never the float it became."""

from __future__ import annotations

import pytest

from leadflow.core import amounts
from leadflow.core.errors import Invalid

NINES = "9" * 400  # float() makes it inf


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (NINES, "amount: '9999999999999999…99999999' (400 characters) is not a number an amount"),
        ("1e400", "amount: '1e400' is not a number an amount can be"),
        ("nan", "amount: 'nan' is not a number an amount can be"),
        ("abc", "amount: 'abc' is not a number"),
        ("1e13", "amount: must be at most 1,000,000,000,000"),
    ],
)
def test_an_amount_refused_names_what_was_typed(typed: str, said: str) -> None:
    with pytest.raises(Invalid) as refused:
        amounts.read(typed, "amount")
    assert refused.value.message.startswith(said)
    assert "inf" not in refused.value.message


def test_an_amount_as_typed_is_read() -> None:
    assert amounts.read(" 12500.5 ", "amount") == 12500.5
    with pytest.raises(Invalid, match="goal: must be positive"):
        amounts.read("0", "goal", positive=True)


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1,234.5", 1234.5), ("$1,000,000", 1e6), ("1 234 €", 1234.0), ("12,34,567", 1234567.0)],
)
def test_an_amount_typed_with_thousands_separators_or_a_currency_sign_is_read(
    typed: str, value: float
) -> None:
    assert amounts.read(typed, "goal") == value
    assert amounts.number(typed) == value


@pytest.mark.parametrize("typed", ["1,5", "12,5", "1,2345", "1_5", "1_000"])
def test_a_comma_that_separates_no_thousands_is_refused_naming_the_text(typed: str) -> None:
    """Every comma was dropped before the web form read an amount: `1,5` was 15; Python's
    own reading of numbers took `1_5` (digits grouped as in its source code) as 15."""
    with pytest.raises(Invalid) as refused:
        amounts.read(typed, "goal")
    assert refused.value.message == f"goal: {typed!r} is not a number"
    assert amounts.number(typed) is None
