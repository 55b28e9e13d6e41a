"""Printing to a terminal: what people and tracking calls sent is text, always.

Everything a lead, an account or a campaign holds came from outside (forms, imports, CRMs,
anyone with the public write key), and a terminal acts on more than letters: Rich reads
`[bold]` or `[/]` as its markup (a `[/]` in a job title made `leads list` fail), and the
terminal itself reads control characters (ESC starts sequences that clear the screen,
recolour what follows or set the clipboard; 0x9b is the same in one byte). So the consoles
here read no markup unless a call asks for it (`markup=True`: our own styling, with any data
in it passed through `rich.markup.escape`), and write every control character but newline
and tab as an escape anyone can see (`\\x1b`), never as itself.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

# C0 but tab and newline, DEL, and C1.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """The text with each control character written as its escape, e.g. `\\x1b`."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


class TextConsole(Console):
    """A Rich console for data: no markup by default, control characters made visible in
    every string it renders (table cells and titles included)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(visible(text), **options)

    @contextmanager
    def at_least(self, width: int) -> Iterator[None]:
        """This console at least `width` columns wide meanwhile (Rich's `print(width=)` only
        narrows), then as it was (a set width or the terminal's)."""
        before = self._width
        if width > self.width:
            self.width = width
        try:
            yield
        finally:
            self._width = before


def key_column(header: str) -> Column:
    """A table column of keys other commands take (e-mails for `leads show`): never wrapped
    or cut short (print its table with `print_whole`)."""
    return Column(header, no_wrap=True, overflow="ignore")


def print_whole(console: TextConsole, table: Table) -> None:
    """Print a table at the terminal's width, or, when even its narrowest form (each column at
    its longest word, a key column whole) does not fit, at its natural width, each row on one
    line: a narrow or piped terminal (80 columns) then wraps lines, where Rich would cut
    `brenda@...` to `brend…` or drop the other columns (and at its bare minimum width it
    still cuts words short)."""
    unbounded = console.options.update_width(1_000_000)
    measured = Measurement.get(console, unbounded, table)
    wanted = measured.maximum if measured.minimum > console.width else console.width
    with console.at_least(wanted):
        console.print(table)


def can_hide_input() -> bool:
    """Whether a hidden prompt has a terminal to read from: the process's own input, or its
    controlling terminal, where `getpass` reads (without either it warns that the input may
    be echoed and reads the process's input). Input some caller put in place of the
    process's (a test runner's) answers the prompt itself."""
    if sys.stdin is not sys.__stdin__ or os.name != "posix":
        return True
    if sys.stdin is not None and sys.stdin.isatty():
        return True
    try:
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(tty)
    return True
