"""Run the real `leadflow` command in-process against a fresh database on each engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from leadflow.cli.main import app
from tests.conftest import Migrate

ROOT = Path(__file__).resolve().parents[2]
B2B = ROOT / "examples" / "b2b_saas.yaml"

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str) -> Run:
    """Invoke the CLI with --db pointing at this test's database."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--db", database_url, *args])

    return invoke


@pytest.fixture
def initialised(run: Run, database_url: str, migrate: Migrate) -> Run:
    """A database with the B2B example playbook installed by `leadflow init` (on a migrated
    copy: `test_init_migrates_an_empty_database` runs its migrations from nothing)."""
    migrate(database_url)
    result = run("init", "--playbook", str(B2B))
    assert result.exit_code == 0, result.output
    return run


def as_json(result: Result) -> Any:
    """The command's standard output as JSON."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
