"""`leadflow serve` refuses what cannot work, before touching anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadflow.cli import serve
from leadflow.cli.main import app


def test_several_server_processes_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    result = CliRunner().invoke(app, ["--db", url, "serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "--workers above 1 needs PostgreSQL" in result.stderr
    assert not (tmp_path / "one.db").exists()  # refused before touching anything


@pytest.fixture
def never_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal must come before the server starts: starting it fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr(serve, "run_server", refuse)


@pytest.mark.usefixtures("never_served")
@pytest.mark.parametrize("level", ["chatty", "trace", ""])
def test_an_unknown_log_level_is_refused_naming_the_valid_ones(tmp_path: Path, level: str) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    result = CliRunner().invoke(app, ["--db", url, "serve", "--log-level", level])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, not a traceback
    shown = " ".join(result.stderr.replace("│", " ").split())
    assert "Invalid value for '--log-level'" in shown
    assert "'critical', 'error', 'warning', 'info', 'debug'" in shown
    assert not (tmp_path / "one.db").exists()


@pytest.mark.usefixtures("never_served")
@pytest.mark.parametrize("port", ["99999", "65536", "-1", "0"])
def test_a_port_outside_1_to_65535_is_refused(tmp_path: Path, port: str) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    result = CliRunner().invoke(app, ["--db", url, "serve", "--port", port])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    shown = " ".join(result.stderr.replace("│", " ").split())
    assert (
        "Invalid value for '--port'" in shown
        and f"{port} is not a TCP port: use 1 to 65535" in shown
    )
    assert not (tmp_path / "one.db").exists()  # refused before touching anything
