"""`leadflow serve` refuses what cannot work, before touching anything."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from leadflow.cli.main import app


def test_several_server_processes_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    result = CliRunner().invoke(app, ["--db", url, "serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "--workers above 1 needs PostgreSQL" in result.stderr
    assert not (tmp_path / "one.db").exists()  # refused before touching anything
