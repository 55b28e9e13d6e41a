"""`leadflow report NAME`: any report as a table, JSON or CSV."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.cli.context import console, fail, friendly, transaction, utcnow
from leadflow.core.limits import MAX_DAYS, MAX_DB_INT, MAX_MONTHS, MAX_REPORT_ROWS
from leadflow.core.report_math import Cohort
from leadflow.services import digest, playbooks
from leadflow.services import reports as report_service
from leadflow.services.reports import base
from leadflow.services.reports.team import CRACKS_SHOWN

DATE = ["%Y-%m-%d"]
NAMES = ", ".join(report_service.REPORTS)
PAGE = ("total", "shown", "limit", "offset")  # said in one line by `_page`


def register(app: typer.Typer) -> None:
    """Add `leadflow report`."""
    app.command("report", help=f"A report: {NAMES}, or digest (the huddle).")(report)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment else None


@friendly
def report(
    name: str = typer.Argument(..., help=f"{NAMES}, digest"),
    period: str | None = typer.Option(None, "--period", help="2026-11, 2026-Q4 or 2026."),
    since: datetime | None = typer.Option(None, "--since", formats=DATE, help="Created from."),
    until: datetime | None = typer.Option(None, "--until", formats=DATE, help="Created before."),
    source: str | None = typer.Option(None, "--source"),
    medium: str | None = typer.Option(None, "--medium"),
    campaign: str | None = typer.Option(None, "--campaign"),
    persona: str | None = typer.Option(None, "--persona"),
    tier: str | None = typer.Option(None, "--tier"),
    by: str = typer.Option("source", "--by", help="conversion: the dimension."),
    history: int = typer.Option(
        6, "--history", min=1, max=MAX_MONTHS, help="bottlenecks: months compared."
    ),
    stale_days: int = typer.Option(90, "--stale-days", min=1, max=MAX_DAYS, help="data_quality."),
    half_life_days: float = typer.Option(
        7.0,
        "--half-life-days",
        min=0.01,
        max=MAX_DAYS,
        help="attribution: the time-decay half-life.",
    ),
    limit: int = typer.Option(
        CRACKS_SHOWN,
        "--limit",
        min=0,
        max=MAX_REPORT_ROWS,
        help="cracks: how many rows to show (the longest waiting); 0 for the counts only.",
    ),
    offset: int = typer.Option(
        0, "--offset", min=0, max=MAX_DB_INT, help="cracks: rows to skip before them."
    ),
    as_json: bool = typer.Option(False, "--json", help="The whole report as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="The table as CSV on standard output."),
    send: bool = typer.Option(False, "--send", help="digest: also queue it to digest channels."),
) -> None:
    """Compute a report over a cohort of leads (created in the period, and of the filters)."""
    if name != "digest" and name not in report_service.REPORTS:
        raise fail(f"unknown report {name!r}; one of {NAMES}, digest")
    cohort = Cohort(_utc(since), _utc(until), source, medium, campaign, persona, tier)
    options = report_service.Options(period, by, history, stale_days, half_life_days, limit, offset)
    with transaction() as session:
        playbook = playbooks.active_playbook(session)
        if name == "digest":
            result = digest.build(session, playbook, period, utcnow())
            sent = digest.send_now(session, playbook, period, utcnow()) if send else None
        else:
            result = report_service.run(session, playbook, name, cohort, options, utcnow())
    if name == "digest":
        show_digest(result, as_json, sent)
        return
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    elif as_csv:
        sys.stdout.write(base.as_csv(result))
    else:
        show(result)


def show_digest(data: dict[str, Any], as_json: bool, sent: int | None) -> None:
    """The digest as text (or JSON), and where it was queued."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        console.print(f"[bold]{escape(data['title'])}[/]", markup=True)
        console.print(data["text"], highlight=False, markup=False)
    if sent is not None:
        console.print(f"queued to {sent} digest channels (the worker delivers it)")


def show(result: dict[str, Any]) -> None:
    """The table, then the report's single figures, then how it is defined."""
    console.print(f"[bold]{escape(result['title'])}[/]", markup=True)
    print_table(result["columns"], result["rows"])
    said = {"report", "title", "definition", "columns", "rows", "cohort"}
    if "total" in result and "shown" in result:  # a page of the rows: say which
        console.print(_page(result))
        said.update(PAGE)
    for key, value in result.items():
        if key in said:
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            console.print(f"\n[bold]{key.replace('_', ' ')}[/]", markup=True)
            print_table(list(value[0]), value[:20])
        elif not isinstance(value, list):
            console.print(f"{key.replace('_', ' ')}: {_cell(value)}")
    console.print(f"\n[dim]{escape(result['definition'])}[/]", markup=True)


def _page(result: dict[str, Any]) -> str:
    """ "showing N of M", and from where when not from the first."""
    shown, total, offset = result["shown"], result["total"], result.get("offset", 0)
    where = f", from row {offset + 1:,}" if offset and shown else ""
    more = " (--limit and --offset show others)" if shown < total else ""
    return f"showing {shown:,} of {total:,}{where}{more}"


def print_table(columns: list[str], rows: list[dict[str, Any]]) -> None:
    table = Table(*(c.replace("_", " ") for c in columns))
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_cell(v)}" for k, v in value.items())
    return str(value)
