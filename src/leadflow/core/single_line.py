"""What a single-line field is (a person's name, a title, a company): one definition (pure).

Anybody holding the public write key can send a name with line breaks or other control
characters in it. Such a name reaches an alert's title (an e-mail's Subject) and its lines,
where it could pass for lines of the alert's own; so every path that stores one stores it on
one line, and an alert's title is made one line where it is built, whatever was stored before.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

MAX_NAME = 200  # characters in a name, a title or a company name
# Control characters (C0, DEL, C1: line feed, carriage return, NEL, ...) and the line and
# paragraph separators. A run of them is found by one character class (no backtracking: a
# pattern that also took the blanks around a run backtracked over every long run of blanks,
# quadratic in a name anybody with the write key sends); the blanks around it go by strip.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str, most: int | None = None) -> str:
    """The text on one line (each run of control characters, with the blanks around it, one
    space), trimmed, cut to `most`."""
    pieces = [piece.strip() for piece in _BREAKS.split(text)]
    flat = " ".join(piece for piece in pieces if piece)
    return flat if most is None else flat[:most].rstrip()


OneLine = Annotated[str, AfterValidator(one_line)]
