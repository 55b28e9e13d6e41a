"""`leadflow accounts ...`: the leads whose company matched no account for sure; merging."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from leadflow.cli.context import cli_actor, console, friendly, transaction, utcnow
from leadflow.core.plural import counted
from leadflow.services import accounts, playbooks

app = typer.Typer(help="Accounts: ambiguous company matches, merging.", no_args_is_help=True)


@app.command()
@friendly
def ambiguous(as_json: bool = typer.Option(False, "--json")) -> None:
    """Leads whose company name was ambiguous, only near an account, or similar to one."""
    with transaction() as session:
        rows = accounts.ambiguous(session)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(
        "lead", "e-mail", "account", "confidence", "why", title="Company matches to check"
    )
    for r in rows:
        sure = f"{r['confidence']:.2f}" if r["confidence"] is not None else ""
        table.add_row(str(r["lead_id"]), r["email"] or "", r["account"] or "(none)", sure,
                      r["reason"])  # fmt: skip
    console.print(table)
    console.print(
        f"{counted(len(rows), 'lead')} to check; `leadflow accounts merge A B` joins two accounts"
    )


@app.command()
@friendly
def merge(
    source: str = typer.Argument(..., help="The account to merge away (id or domain)."),
    target: str = typer.Argument(..., help="The account that keeps its leads (id or domain)."),
    actor: str | None = typer.Option(None, help="Who merged them (audit log)."),
) -> None:
    """Move every lead of account SOURCE to TARGET and remove SOURCE (audited)."""
    with transaction() as session:
        book = playbooks.active_playbook(session)
        done = accounts.merge(session, book, source, target, actor=cli_actor(actor), now=utcnow())
    console.print(
        f"merged {done['merged_from']} into {done['domain']}: "
        f"{counted(done['leads_moved'], 'lead')} moved",
        highlight=False,
    )
    if done["note"]:
        console.print(f"note: {done['note']}", highlight=False)
