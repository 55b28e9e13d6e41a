"""`leadflow leads list|show`."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from leadflow.cli.context import console, friendly, transaction, utcnow
from leadflow.services import leads, playbooks

app = typer.Typer(help="Leads by score, and one lead explained.", no_args_is_help=True)


@app.command("list")
@friendly
def list_leads(
    stage: str | None = typer.Option(None, help="Only this stage (e.g. mql)."),
    grade: str | None = typer.Option(None, help="Only this grade (e.g. A1)."),
    persona: str | None = typer.Option(None, help="Only this persona id."),
    limit: int = typer.Option(25, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="A JSON array, highest score first."),
) -> None:
    """The top leads by total score."""
    with transaction() as session:
        rows = leads.list_top(session, stage=stage, grade=grade, persona=persona, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("email", "name", "title", "stage", "grade", "fit", "eng.", "total", "persona")
    for row in rows:
        table.add_row(
            row["email"] or "(anonymous)",
            row["name"] or "",
            row["title"] or "",
            row["stage"],
            row["grade"] or "",
            f"{row['fit']:g}",
            f"{row['engagement']:g}",
            f"[bold]{row['total']:g}[/]",
            row["persona"] or "",
        )
    console.print(table)


def _print_detail(data: dict[str, Any]) -> None:
    account = data["account"] or {}
    console.print(
        f"[bold]{data['name'] or data['email']}[/] <{data['email']}> — {data['title'] or ''}"
        f" at {account.get('name') or '(no account)'}"
        + (f" [magenta](tier {account['tier']})[/]" if account.get("tier") else ""),
        highlight=False,
    )
    console.print(
        f"stage [bold]{data['stage']}[/]  grade [bold]{data['grade']}[/]  "
        f"fit {data['fit']:g} + engagement {data['engagement']:g} "
        f"= total [bold]{data['total']:g}[/]"
    )
    if data["persona_detail"]:
        persona = data["persona_detail"]
        console.print(f"persona [cyan]{persona['name']}[/]: talking points:")
        for point in persona["talking_points"]:
            console.print(f"  • {point}", highlight=False)
    table = Table("rule", "why", "points", title="Score, rule by rule")
    for c in data["contributions"]:
        why = c["label"] + (f" ({c['detail']})" if c["detail"] else "")
        table.add_row(c["rule"], why, f"{c['points']:+g}")
    console.print(table)
    history = Table("at", "from", "to", "why", "by", title="Stage history")
    for h in data["stage_history"]:
        history.add_row(h["at"][:16], h["from"] or "", h["to"], h["reason"], h["actor"])
    console.print(history)
    timeline = Table("at", "type", "name / page", title="Latest activity")
    for e in data["events"][:15]:
        page = (e["properties"] or {}).get("path") or ""
        timeline.add_row(e["at"][:16], e["type"], e["name"] or page)
    console.print(timeline)


@app.command("show")
@friendly
def show(
    key: str = typer.Argument(..., help="E-mail address or id."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """One lead: its score explained rule by rule, persona, stage history and timeline."""
    with transaction() as session:
        book = playbooks.active_playbook(session)
        data = leads.detail(session, key, book, utcnow())
        data["events"] = leads.timeline(session, data["id"])
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        _print_detail(data)
