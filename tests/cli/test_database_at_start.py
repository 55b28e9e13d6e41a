"""A database that cannot be used is one clear line at start (serve, worker, any command):
a wrong URL, a server that does not answer, a schema at an older or unknown migration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from leadflow.models.db import make_engine, schema_problem, upgrade

LEADFLOW = str(Path(sys.executable).with_name("leadflow"))
NOBODY_LISTENS = "postgresql://leadflow:secret-pw@127.0.0.1:1/leadflow"


def _start(url: str, *command: str) -> list[str]:
    """The lines `leadflow` printed on standard error; it must have exited with an error."""
    env = {**os.environ, "LEADFLOW_DATABASE_URL": url}
    done = subprocess.run(
        [LEADFLOW, *command], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    return [line for line in done.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "command", [["serve", "--port", "1"], ["worker"], ["leads", "list"]], ids=lambda c: c[0]
)
def test_a_database_that_does_not_answer(command: list[str]) -> None:
    lines = _start(NOBODY_LISTENS, *command)
    assert len(lines) == 1, lines
    assert "127.0.0.1" in lines[0] and "secret-pw" not in lines[0]
    assert "refused" in lines[0].lower() or "failed" in lines[0].lower()


def test_a_url_that_is_not_one() -> None:
    lines = _start("not a database url", "worker")
    assert lines == ["error: database URL 'not a database url:...' is not valid: " + lines[0]
                     .split("is not valid: ", 1)[1]]  # fmt: skip
    lines = _start("mysql://someone@host/db", "leads", "list")
    assert len(lines) == 1 and "'mysql' is not supported" in lines[0], lines


def test_init_migrates_an_empty_database(database_url: str) -> None:
    """What the `initialised` fixture's copy of a migrated database stands for."""
    from typer.testing import CliRunner

    from leadflow.cli.main import app

    done = CliRunner().invoke(app, ["--db", database_url, "init"])
    assert done.exit_code == 0, done.output
    assert "database ready" in done.stdout
    engine = make_engine(database_url)
    try:
        assert schema_problem(engine) is None
    finally:
        engine.dispose()


def test_an_older_schema(database_url: str) -> None:
    upgrade(database_url, "0006")
    for command in (["worker"], ["leads", "list"]):
        lines = _start(database_url, *command)
        assert len(lines) == 1, lines
        assert "older migration" in lines[0] and "leadflow init" in lines[0], lines


def test_a_schema_newer_than_this_code(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('9999_future')"))
    engine.dispose()
    lines = _start(database_url, "serve", "--port", "1", "--no-worker")
    assert len(lines) == 1, lines
    assert "9999_future" in lines[0] and "newer than this leadflow knows" in lines[0], lines


def test_init_with_a_missing_playbook_touches_no_database(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from leadflow.cli.main import app

    url = f"sqlite:///{tmp_path / 'new.db'}"
    missing = tmp_path / "missing.yaml"
    result = CliRunner().invoke(app, ["--db", url, "init", "--playbook", str(missing)])
    assert result.exit_code == 1 and str(missing) in result.stderr
    assert "database ready" not in result.stdout
    assert not (tmp_path / "new.db").exists()  # checked before creating or migrating anything
