"""`leadflow people erase|export` and `leadflow audit`: people's data and who did what."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from leadflow.cli.context import cli_actor, console, fail, friendly, transaction, utcnow
from leadflow.core.limits import MAX_DAYS
from leadflow.core.plural import counted
from leadflow.services import audit, privacy

app = typer.Typer(
    help="People's data (GDPR / CCPA): erase a person, export what is held.",
    no_args_is_help=True,
)


@app.command("erase")
@friendly
def erase(
    key: str = typer.Argument(..., help="The person's e-mail, lead id or identity key."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask; erasure cannot be undone."),
    actor: str | None = typer.Option(None, "--actor", help="Who asks (default: $USER)."),
) -> None:
    """Remove the person everywhere, keeping only anonymous counts; cannot be undone."""
    if not yes and not typer.confirm(f"Erase {key} everywhere? This cannot be undone"):
        raise fail("nothing erased")
    with transaction() as session:
        result = privacy.erase(session, key, actor=cli_actor(actor), now=utcnow())
    console.print(
        f"erased {key}: {counted(result['lead'], 'lead')}, {counted(result['events'], 'event')}, "
        f"{counted(result['alerts'], 'alert')}, "
        f"{counted(result['traces_scrubbed'], 'trace')} in other records; "
        f"person {result['subject'][:16]}",
        highlight=False,
    )


@app.command("export")
@friendly
def export(
    key: str = typer.Argument(..., help="The person's e-mail, lead id or identity key."),
    actor: str | None = typer.Option(None, "--actor", help="Who asks (default: $USER)."),
) -> None:
    """Everything held about the person, as JSON on standard output."""
    with transaction() as session:
        found = privacy.export(session, key, actor=cli_actor(actor), now=utcnow())
    print(json.dumps(found, indent=2, ensure_ascii=False))


def register(root: typer.Typer) -> None:
    """Add `people` and `audit` to the root command."""
    root.add_typer(app, name="people")
    root.command("audit")(audit_command)


@friendly
def audit_command(
    since: int | None = typer.Option(
        None, "--since", min=0, max=MAX_DAYS, help="Only the last N days."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor's entries."),
    action: str | None = typer.Option(None, "--action", help="Only actions starting so."),
    limit: int = typer.Option(200, "--limit", min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
) -> None:
    """The audit log, newest first: who changed what, and when."""
    start = utcnow() - timedelta(days=since) if since is not None else None
    with transaction() as session:
        rows = audit.entries(session, since=start, actor=actor, action=action, limit=limit)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("at", "actor", "action", "target", "details")
    for row in rows:
        at = datetime.fromisoformat(row["at"]).astimezone(UTC)
        details = json.dumps(row["details"], ensure_ascii=False) if row["details"] else ""
        stamp = f"{at:%Y-%m-%d %H:%M:%S}"
        table.add_row(stamp, row["actor"], row["action"], row["target"], details)
    console.print(table)
