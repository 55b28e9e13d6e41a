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

import re
from typing import Any

from rich.console import Console
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
