"""Numbers in imported rows as files write them: currency signs, thousands separators."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from leadflow.core.records import AccountRecord, LeadRecord


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("$1,200,000", 1_200_000.0),
        ("€1,200", 1200.0),  # only `$` was dropped before: any currency sign is
        ("1,234.50 €", 1234.5),
        ("£ 5000", 5000.0),
        ("12,34,567", 1_234_567.0),  # grouped as in India
        ("1 000 000", 1_000_000.0),
        ("1\u00a0000\u00a0000.5", 1_000_000.5),  # the no-break space spreadsheets group with
        ("12.5", 12.5),
    ],
)
def test_an_annual_revenue_as_files_write_it_is_read(typed: str, value: float) -> None:
    record = AccountRecord.model_validate({"domain": "acme.com", "annual_revenue": typed})
    assert record.annual_revenue == value


@pytest.mark.parametrize("typed", ["1,5", "12,3456", "1,23", "1.234,50", "1.5M", "1,2,3"])
def test_a_number_whose_commas_are_not_thousands_is_refused_naming_it(typed: str) -> None:
    # Before: every comma was dropped, whatever it separated: `1,5` (one and a half, as a
    # decimal comma writes it) was stored as 15 and `1.234,50` as 1.2345, without a word.
    with pytest.raises(ValidationError) as refused:
        AccountRecord.model_validate({"domain": "acme.com", "annual_revenue": typed})
    assert f"{typed!r} is not a number" in str(refused.value)


@pytest.mark.parametrize(("typed", "count"), [("1,200", 1200), ("12.0", 12), ("2 500", 2500)])
def test_a_head_count_as_files_write_it_is_read(typed: str, count: int) -> None:
    record = LeadRecord.model_validate({"email": "a@acme.com", "employees": typed})
    assert record.employees == count


@pytest.mark.parametrize("typed", ["1,5", "12.5", "1.5k"])
def test_a_head_count_that_is_no_whole_number_is_refused_naming_it(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LeadRecord.model_validate({"email": "a@acme.com", "employees": typed})
    assert f"{typed!r} is not a whole number" in str(refused.value)
