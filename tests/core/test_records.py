"""Numbers in imported rows as files write them: currency signs, thousands separators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from leadflow.core.conditions import Condition, evaluate
from leadflow.core.records import AccountRecord, EventRecord, LeadRecord


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


@pytest.mark.parametrize("typed", ["1,5", "12,3456", "1,23", "1.234,50", "1.5M", "1,2,3", "1_5"])
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


def _moment(value: object) -> EventRecord:
    return EventRecord.model_validate({"email": "a@acme.com", "type": "page", "timestamp": value})


def _refusal(value: object) -> str:
    with pytest.raises(ValidationError) as refused:
        _moment(value)
    (error,) = refused.value.errors()
    assert error["loc"] == ("timestamp",)
    return str(error["msg"]).removeprefix("Value error, ")


JAN_5 = datetime(2026, 1, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [1767614400, "1767614400", 1767614400.0, 1767614400000, "1767614400000", "2026-01-05T12:00Z"],
)
def test_a_timestamp_is_iso_or_seconds_or_milliseconds_since_1970(value: object) -> None:
    assert _moment(value).timestamp == JAN_5


@pytest.mark.parametrize("value", [46027.5, "46027.5", " 46027.5 "])
def test_a_spreadsheet_day_number_is_refused_saying_what_it_looks_like(value: object) -> None:
    """A date that lost its formatting (46027.5: Excel's day number) was read as seconds
    since 1970: an event on 1970-01-01 12:47."""
    said = _refusal(value)
    assert said.startswith(
        f"{str(value).strip()!r} looks like a spreadsheet's day number (2026-01-05 12:00)"
    )
    assert "format the column as a date" in said


@pytest.mark.parametrize("value", [0, "12", 99_999_999, "5000000000000000"])
def test_a_number_no_moment_from_2000_to_2100_is_refused_naming_it(value: object) -> None:
    said = _refusal(value)
    assert said.startswith(f"{str(value)!r} is not seconds or milliseconds since 1970")


def test_an_integer_beyond_any_float_is_refused_not_raised() -> None:
    assert "(401 characters) is not seconds or milliseconds" in _refusal(10**400)


@pytest.mark.parametrize(
    ("value", "readings"),
    [("05/01/2026", "2026-01-05 or 2026-05-01"), ("25.01.2026", "2026-01-25"),
     ("1/13/26", "2026-01-13")],
)  # fmt: skip
def test_a_date_written_day_and_month_is_refused_quoting_it_and_saying_what_to_write(
    value: str, readings: str
) -> None:
    said = _refusal(value)
    assert said.startswith(f"{value!r} is not a date and time this reads"), said
    assert f"write it year first ({readings})" in said


@pytest.mark.parametrize("value", ["Jan 5, 2026", "2026-13-01", "soon"])
def test_any_other_refused_timestamp_is_quoted(value: str) -> None:
    said = _refusal(value)
    assert said.startswith(f"{value!r} is not a date and time"), said
    assert "2026-01-05T14:30:00Z" in said


@pytest.mark.parametrize(("cell", "value"), [("TRUE", True), ("True", True), (" false ", False)])
def test_a_yes_no_column_is_a_boolean_as_a_rule_compares_it(cell: str, value: bool) -> None:
    """A sheet's TRUE was kept as the text `True` from Excel and `TRUE` from its CSV: two
    values, neither of which a rule's `equals: true` (a boolean) holds on."""
    lead = LeadRecord.model_validate({"email": "a@acme.com", "newsletter": cell, "title": cell})
    assert lead.extra_attributes() == {"newsletter": value}
    assert lead.title == cell.strip()  # a field of text keeps its text
    assert evaluate(Condition(field="newsletter", equals=value), lead.extra_attributes())
    account = AccountRecord.model_validate({"domain": "acme.com", "partner": cell})
    assert account.extra_attributes() == {"partner": value}
    row = {"email": "a@acme.com", "type": "page", "timestamp": 1767614400, "consent": cell}
    event = EventRecord.model_validate(row)
    assert event.properties == {"consent": value}
