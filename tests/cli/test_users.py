"""`leadflow users create`: what it checks, and when it asks for the password."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from leadflow.cli.main import app
from tests.conftest import Migrate

PASSWORD = "correct-horse-battery\ncorrect-horse-battery\n"  # typed twice at the prompt


def test_a_bad_email_or_role_is_told_before_the_password_is_asked(
    database_url: str, migrate: Migrate
) -> None:
    # Before: the password was asked for (twice) first, and a typo in the e-mail or the role
    # was told only after it had been typed.
    migrate(database_url)
    runner = CliRunner()

    for args, reason in ((["not-an-email", "--role", "rep"], "email: "),
                         (["ana@x.io", "--role", "boss"], "role: 'boss'")):  # fmt: skip
        bad = runner.invoke(app, ["--db", database_url, "users", "create", *args], input=PASSWORD)
        assert bad.exit_code == 1 and reason in bad.stderr, bad.output
        assert "Password" not in bad.output  # not asked for: the mistake comes first
    made = runner.invoke(
        app, ["--db", database_url, "users", "create", "ana@x.io", "--role", "rep"], input=PASSWORD
    )
    assert made.exit_code == 0, made.output
    assert "Password" in made.output and "created rep ana@x.io" in made.stdout
    taken = runner.invoke(
        app, ["--db", database_url, "users", "create", "ana@x.io", "--role", "rep"], input=PASSWORD
    )
    assert taken.exit_code == 1 and "exists" in taken.stderr and "Password" not in taken.output


def test_listed_user_e_mails_are_never_cut_short(database_url: str, migrate: Migrate) -> None:
    """`users deactivate|activate|reset-password` take the e-mail `users list` shows: an
    80-column terminal cut it (`nora.patel@example-company.…`)."""
    migrate(database_url)
    runner = CliRunner()
    email = "nora.patel-whitfield@northwind-logistics-international.example"
    made = runner.invoke(app, ["--db", database_url, "users", "create", email, "--name",
                               "Nora Patel", "--role", "manager"], input=PASSWORD)  # fmt: skip
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["--db", database_url, "users", "list"])
    assert listed.exit_code == 0 and email in listed.stdout, listed.stdout


@pytest.mark.parametrize("typed", ["", PASSWORD])
def test_without_a_terminal_it_says_how_to_give_the_password(
    database_url: str, migrate: Migrate, typed: str
) -> None:
    """With no terminal (a script, `docker run` without -t) it printed Python's
    GetPassWarning and "Password input may be echoed", then read the password from its
    input, or said only "Aborted." when there was none."""
    migrate(database_url)
    args = ["--db", database_url, "users", "create", "ana@x.io", "--role", "rep"]
    done = subprocess.run(
        [sys.executable, "-m", "leadflow", *args], input=typed, capture_output=True, text=True,
        timeout=120, start_new_session=True,  # no controlling terminal
    )  # fmt: skip
    assert done.returncode == 1, done
    assert done.stderr.strip() == (
        "error: a password is typed at a terminal, and there is none here: run this at "
        "one (docker run -it, docker compose run), or give it with --password"
    ), done.stderr
    assert done.stdout == ""
    given = subprocess.run(
        [sys.executable, "-m", "leadflow", *args, "--password", "correct-horse-battery"],
        capture_output=True, text=True, timeout=120, start_new_session=True,
    )  # fmt: skip
    assert given.returncode == 0 and "created rep ana@x.io" in given.stdout, given
