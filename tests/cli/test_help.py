"""Every command's summary, as `leadflow --help` and each group's help list it."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import typer

from leadflow.cli.main import app


def commands(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, f"{path} {name}")


def test_no_help_text_breaks_in_the_middle() -> None:
    """Help is printed with its line breaks as they are (rich markup), but for a command's
    own summary: `leadflow --help` listed `tune` as "... or leadflow's own closed" /
    "leads); report ...", and `export --help` broke `export leads` after "oldest"."""
    broken = []
    for path, command in commands(typer.main.get_command(app), "leadflow"):
        for paragraph in inspect.cleandoc(command.help or "").split("\n\n"):
            if "\n" in paragraph:
                broken.append(f"{path}: {paragraph!r}")
    assert broken == []
