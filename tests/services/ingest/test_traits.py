"""Group and identify traits read as account columns."""

from __future__ import annotations

from leadflow.services.ingest.traits import account_fields


def test_a_figure_is_read_as_files_and_forms_read_numbers() -> None:
    """Every comma was dropped: an `employees` trait of `1,5` was 15 people."""
    assert account_fields({"employees": "1,5", "annual_revenue": "2,5"}) == {}
    found = account_fields({"employees": "1,200", "annual_revenue": "$1,234,567.50"})
    assert found == {"employees": 1200, "annual_revenue": 1234567.5}
