"""Leads for a CRM sync: the lead_scores view's rows changed since a moment, as CSV or JSONL."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import Any, Literal, TextIO

from sqlalchemy.orm import Session

from leadflow.models.lead_scores import VIEW_COLUMNS
from leadflow.repositories import lead_scores
from leadflow.services.reports.base import neutralised

Format = Literal["csv", "jsonl"]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_leads(session: Session, out: TextIO, *, since: datetime | None, fmt: Format) -> int:
    """Write the rows changed at or after `since` (every row without it); return how many."""
    rows = lead_scores.changed_since(session, since)
    written = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(VIEW_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralised(_plain(v)) for k, v in row.items()})
            written += 1
        return written
    for row in rows:
        out.write(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
        written += 1
    return written
