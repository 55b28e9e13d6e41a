"""`leadflow export leads`: what changed since a moment, for a CRM sync (reverse ETL)."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer

from leadflow.cli.context import errors, fail, friendly, transaction
from leadflow.cli.setup import parse_moment
from leadflow.core.plural import counted
from leadflow.services import crm_export

app = typer.Typer(help="Export for other tools (CRM syncs).", no_args_is_help=True)


class ExportFormat(StrEnum):
    """Output formats."""

    csv = "csv"
    jsonl = "jsonl"


@app.command("leads")
@friendly
def export_leads(
    since: str | None = typer.Option(
        None,
        "--since",
        help="Only leads changed at or after this moment (ISO 8601; UTC when no offset): "
        "the last updated_at exported, to sync only what changed since.",
    ),
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", help="csv or jsonl."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
) -> None:
    """The lead_scores view's rows (e-mail, CRM ids, stage, scores, owner), oldest change first."""
    moment = parse_moment(since, "--since") if since else None
    if output is None:
        with transaction() as session:
            count = crm_export.export_leads(session, sys.stdout, since=moment, fmt=fmt.value)
    else:
        count = _to_file(output, moment, fmt)
    errors.print(f"exported {counted(count, 'lead')}", highlight=False)


def _to_file(output: Path, since: datetime | None, fmt: ExportFormat) -> int:
    """Write beside the file and rename at the end: a failed export leaves no half file."""
    partial = output.with_name(f".{output.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out, transaction() as session:
            count = crm_export.export_leads(session, out, since=since, fmt=fmt.value)
        partial.replace(output)
    except OSError as exc:
        raise fail(f"--output: cannot write {output}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    return count


def register(root: typer.Typer) -> None:
    """Add `export` to the root command."""
    root.add_typer(app, name="export")
