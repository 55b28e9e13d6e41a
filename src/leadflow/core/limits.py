"""Bounds on numbers a client sends, so none reaches the database out of range (pure)."""

from __future__ import annotations

from leadflow.core.errors import Invalid

MAX_DB_INT = 2**63 - 1  # BIGINT and SQLite INTEGER: ids, offsets
MAX_EMPLOYEES = 10_000_000  # above the largest employer on Earth
MAX_REPORT_ROWS = 10_000  # rows one page of a report may show (each made in Python)
# A span of days or months a client gives (a window back, a re-engage delay): ten years,
# far inside what dates can hold (a day count back before the year 1 is an OverflowError).
MAX_DAYS = 3650
MAX_MONTHS = 120
# What a person types on a lead, on every interface: a stage action's reason (it goes into the
# history and every alert about the move), a touch's or a note's text.
MAX_REASON = 1000
MAX_TEXT = 5000


def text_at_most(field: str, text: str, most: int) -> str:
    """The text, or Invalid naming the field when it is longer than `most` characters."""
    if len(text) > most:
        why = f"at most {most:,} characters ({len(text):,} given)"
        raise Invalid(f"{field}: {why}", [(field, why)])
    return text


def as_id(key: str) -> int | None:
    """A key of ASCII digits as an id (`²` is a digit to Python, not to a database), else None."""
    if not (key.isascii() and key.isdigit()):
        return None
    # Beyond BIGINT no row can have it; 0 matches none either, but is a valid query. Counted
    # in digits first: Python refuses to turn more than 4,300 of them into an int.
    digits = key.lstrip("0") or "0"
    if len(digits) > len(str(MAX_DB_INT)):
        return -1
    number = int(digits)
    return number if number <= MAX_DB_INT else -1
