"""`leadflow keys create|list|revoke`."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from leadflow.cli.context import audited, console, friendly, transaction, utcnow
from leadflow.cli.terminal import key_column, print_whole
from leadflow.core.limits import MAX_DB_INT
from leadflow.services import keys

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)


@app.command("create")
@friendly
def create(
    role: str = typer.Option(..., "--role", help="ingest, marketing, sales or admin."),
    name: str = typer.Option("", "--name", help="What the key is for, e.g. 'website'."),
) -> None:
    """Create a key; it is printed once, alone on the last line."""
    chosen = keys.role_of(role)
    with transaction() as session:
        made = keys.create(session, chosen, name, utcnow())
        details = {"role": chosen.value, "name": made.key.name, "prefix": made.key.prefix}
        audited(session, "key.create", f"key:{made.key.id}", details)
        label = made.key.name
        key_id = made.key.id
    console.print(
        f"created {chosen.value} key {key_id} ({label}); store it now, it is not shown again:"
    )
    print(made.secret)


@app.command("list")
@friendly
def list_command() -> None:
    """Every key with its role and prefix (never the key itself)."""
    with transaction() as session:
        rows = [
            (str(k.id), k.name, k.role, k.prefix + "...", _minute(k.created_at),
             _minute(k.last_used_at), _minute(k.revoked_at))
            for k in keys.list_keys(session)
        ]  # fmt: skip
    # `keys revoke` takes the id; the prefix is how a person knows the key: neither cut short.
    table = Table(key_column("id"), "name", "role", key_column("prefix"), "created (UTC)",
                  "last used (UTC)", "revoked (UTC)")  # fmt: skip
    for row in rows:
        table.add_row(*row)
    print_whole(console, table)


def _minute(at: datetime | None) -> str:
    """A stored time to the minute, in UTC, as the other lists show times."""
    return "" if at is None else f"{at.astimezone(UTC):%Y-%m-%d %H:%M}"


@app.command("revoke")
@friendly
def revoke(
    key_id: int = typer.Argument(
        ..., max=MAX_DB_INT, help="The key's id (see `leadflow keys list`)."
    ),
) -> None:
    """Revoke a key at once."""
    with transaction() as session:
        keys.revoke(session, key_id, utcnow())
        audited(session, "key.revoke", f"key:{key_id}")
    console.print(f"revoked key {key_id}")
