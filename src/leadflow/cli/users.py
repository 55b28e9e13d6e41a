"""`leadflow users ...`: the people who sign in to the web app."""

from __future__ import annotations

import typer
from rich.table import Table

from leadflow.cli.context import audited, console, fail, friendly, transaction, utcnow
from leadflow.cli.terminal import can_hide_input, key_column, print_whole
from leadflow.core.plural import counted
from leadflow.services import users

app = typer.Typer(
    help="People who sign in to the web app: create, list, deactivate, reset a password.",
    no_args_is_help=True,
)


def register(main: typer.Typer) -> None:
    """Add `leadflow users`."""
    main.add_typer(app, name="users")


NO_TERMINAL = (
    "a password is typed at a terminal, and there is none here: run this at one "
    "(docker run -it, docker compose run), or give it with --password"
)


@app.command("create")
@friendly
def create(
    email: str = typer.Argument(..., help="Their e-mail (a rep's is also their rep e-mail)."),
    name: str = typer.Option("", "--name"),
    role: str = typer.Option(..., "--role", help="rep, manager, marketing or admin"),
    password: str | None = typer.Option(
        None, "--password", help="At least 10 characters (asked for when not given).",
    ),
) -> None:  # fmt: skip
    """Create a user who can sign in at /login."""
    if password is None:  # asked for once the rest is known to be right, not before
        with transaction() as session:
            users.new_user_email(session, email, role)
        if not can_hide_input():  # getpass would warn, echo, or find nothing to read
            raise fail(NO_TERMINAL)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with transaction() as session:
        user = users.create_user(session, email=email, name=name, role=role, password=password,
                                 now=utcnow())  # fmt: skip
        audited(session, "user.create", f"user:{user.id}", {"email": user.email, "role": user.role})
        console.print(f"created {user.role} {user.email} (user {user.id}); sign in at /login")


@app.command("list")
@friendly
def list_users() -> None:
    """Every user, their role, whether they may sign in and their open sessions."""
    with transaction() as session:
        open_now = users.live_sessions(session, utcnow())
        rows = [(u.id, u.email, u.name, u.role, "yes" if u.active else "no",
                 open_now.get(u.id, 0)) for u in users.list_users(session)]  # fmt: skip
    table = Table("id", key_column("e-mail"), "name", "role", "active", "sessions")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    print_whole(console, table)  # `users deactivate|activate|reset-password` take the e-mail


@app.command("deactivate")
@friendly
def deactivate(email: str = typer.Argument(..., help="The user's e-mail.")) -> None:
    """Stop a user signing in, and sign them out everywhere at once."""
    with transaction() as session:
        user, ended = users.deactivate(session, email)
        audited(session, "user.deactivate", f"user:{user.id}", {"sessions_ended": ended})
        console.print(f"deactivated {user.email}; {counted(ended, 'session')} ended")


@app.command("activate")
@friendly
def activate(email: str = typer.Argument(..., help="The user's e-mail.")) -> None:
    """Let a deactivated user sign in again."""
    with transaction() as session:
        user = users.activate(session, email)
        audited(session, "user.activate", f"user:{user.id}")
        console.print(f"{user.email} may sign in again")


@app.command("reset-password")
@friendly
def reset_password(
    email: str = typer.Argument(..., help="The user's e-mail."),
    password: str | None = typer.Option(
        None, "--password", help="At least 10 characters; generated (and printed) if not given."
    ),
) -> None:  # fmt: skip
    """Set a new password and end every session of the user; a generated one is printed once."""
    with transaction() as session:
        user, chosen, ended = users.reset_password(session, email, password, utcnow())
        audited(session, "user.reset_password", f"user:{user.id}", {"sessions_ended": ended})
    console.print(f"password of {user.email} reset; {counted(ended, 'session')} ended")
    if password is None:
        print(chosen)  # alone on the last line, like a new API key
