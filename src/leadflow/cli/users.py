"""`leadflow users ...`: the people who sign in to the web app."""

from __future__ import annotations

import typer
from rich.table import Table

from leadflow.cli.context import audited, console, friendly, transaction, utcnow
from leadflow.services import users

app = typer.Typer(help="People who sign in to the web app: create and list.", no_args_is_help=True)


def register(main: typer.Typer) -> None:
    """Add `leadflow users`."""
    main.add_typer(app, name="users")


@app.command("create")
@friendly
def create(
    email: str = typer.Argument(..., help="Their e-mail (a rep's is also their rep e-mail)."),
    name: str = typer.Option("", "--name"),
    role: str = typer.Option(..., "--role", help="rep, manager, marketing or admin"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
        help="At least 10 characters (asked for when not given).",
    ),
) -> None:  # fmt: skip
    """Create a user who can sign in at /login."""
    with transaction() as session:
        user = users.create_user(session, email=email, name=name, role=role, password=password,
                                 now=utcnow())  # fmt: skip
        audited(session, "user.create", f"user:{user.id}", {"email": user.email, "role": user.role})
        console.print(f"created {user.role} {user.email} (user {user.id}); sign in at /login")


@app.command("list")
@friendly
def list_users() -> None:
    """Every user and their role (never a password)."""
    with transaction() as session:
        rows = [(u.id, u.email, u.name, u.role, "yes" if u.active else "no")
                for u in users.list_users(session)]  # fmt: skip
    table = Table("id", "e-mail", "name", "role", "active")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
