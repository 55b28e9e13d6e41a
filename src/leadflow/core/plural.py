"""Counts in words: `1 lead`, `2 leads`, `12,345 events`."""

from __future__ import annotations


def counted(count: int, one: str, many: str | None = None) -> str:
    """The count and its noun in the right number (`many` when it is not `one` + "s")."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"
