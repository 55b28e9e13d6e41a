"""What every report is: a named table with its cohort, its definition and its caveats."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from leadflow.core.report_math import Cohort


def table(
    name: str,
    title: str,
    definition: str,
    cohort: Cohort,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """The shape the API returns, the CLI prints as a table and exports as CSV."""
    return {
        "report": name,
        "title": title,
        "definition": definition,
        "cohort": cohort.as_dict(),
        "columns": list(columns),
        "rows": list(rows),
        **extra,
    }


def share(part: float, whole: float) -> float | None:
    """part / whole to four places; None for an empty whole."""
    return round(part / whole, 4) if whole else None


def as_csv(result: dict[str, Any]) -> str:
    """The report's table as CSV: a header row, then one line per row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=result["columns"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: neutralised(v) for k, v in row.items()} for row in result["rows"])
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: Any) -> Any:
    """Text a spreadsheet would run as a formula, prefixed with `'` so it stays text (OWASP)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
