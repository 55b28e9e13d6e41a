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
# paragraph separators, with the blanks around them: each run becomes one space.
_BREAKS = re.compile(r"\s*[\x00-\x1f\x7f-\x9f\u2028\u2029]+[\s\x00-\x1f\x7f-\x9f]*")


def one_line(text: str, most: int | None = None) -> str:
    """The text on one line (each run of control characters a space), trimmed, cut to `most`."""
    flat = _BREAKS.sub(" ", text).strip()
    return flat if most is None else flat[:most].rstrip()


OneLine = Annotated[str, AfterValidator(one_line)]
