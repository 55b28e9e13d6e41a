"""`leadflow backup FILE` and `leadflow restore FILE`."""

from __future__ import annotations

from pathlib import Path

import typer

from leadflow.cli.context import console, fail, friendly, state
from leadflow.models import backup as backups
from leadflow.models.db import upgrade


def register(app: typer.Typer) -> None:
    """Add `leadflow backup` and `leadflow restore`."""
    app.command("backup")(backup)
    app.command("restore")(restore)


@friendly
def backup(file: Path = typer.Argument(..., help="The backup file to write.")) -> None:
    """Copy the whole database into FILE while it keeps running (SQLite or PostgreSQL)."""
    done = backups.backup(state.url(), file)
    size = f"{done.bytes:,} bytes"
    console.print(f"backed up {state.shown_url()} to {done.path} ({size}, {done.how})",
                  highlight=False)  # fmt: skip


@friendly
def restore(
    file: Path = typer.Argument(..., help="A file written by `leadflow backup`."),
    yes: bool = typer.Option(False, "--yes", help="Replace the database without asking."),
) -> None:
    """Replace the whole database with a backup, then bring its schema up to date."""
    if not file.is_file():
        raise fail(f"{file}: no such backup file")
    if not yes and not typer.confirm(f"Replace everything in {state.shown_url()} with {file}?"):
        raise fail("nothing restored")
    done = backups.restore(state.url(), file)
    upgrade(state.url())
    console.print(f"restored {state.shown_url()} from {done.path} ({done.how}); schema up to date",
                  highlight=False)  # fmt: skip
