"""The `leadflow` command."""

from __future__ import annotations

import typer

from leadflow.cli import (
    accounts,
    backup,
    demo,
    export,
    goals,
    handoff,
    imports,
    keys,
    leads,
    model,
    people,
    plan,
    playbook,
    reports,
    serve,
    setup,
    tune,
    users,
)
from leadflow.cli.context import state

app = typer.Typer(
    name="leadflow",
    help="Sales and marketing alignment, executable: one playbook, live scoring, hand-off.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: LEADFLOW_DATABASE_URL or sqlite:///leadflow.db)."
    ),
) -> None:
    """Global options."""
    state.database_url = db


app.add_typer(playbook.app, name="playbook")
app.add_typer(leads.app, name="leads")
app.add_typer(accounts.app, name="accounts")
app.add_typer(keys.app, name="keys")
serve.register(app)
setup.register(app)
imports.register(app)
demo.register(app)
handoff.register(app)
reports.register(app)
plan.register(app)
goals.register(app)
users.register(app)
tune.register(app)
model.register(app)
backup.register(app)
people.register(app)
export.register(app)
