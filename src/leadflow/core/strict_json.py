"""JSON as RFC 8259 defines it, within limits a server can hold (pure).

Python's `json` accepts `NaN`, `Infinity` and `-Infinity`, turns `1e400` into infinity, keeps
lone surrogates such as `"\\ud800"`, escaped or as raw bytes (which no database can store as
text), and NUL characters (`"\\u0000"`, which PostgreSQL cannot store as text: SQLite kept
them), and fails with RecursionError or ValueError on very deep or very long input. Every JSON
body leadflow reads goes through `loads`, which refuses all of those with `Invalid` naming the
field, on every engine alike; only the Segment path lets NUL through, to drop it
(`core.segment.without_nul`), as Segment's own API is lenient.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from leadflow.core.errors import Invalid

MAX_DEPTH = 64  # nesting of objects and arrays; Segment messages use a handful
# A surrogate escaped (`\\ud800`) or sent as raw bytes: `json.loads` decodes bytes with
# "surrogatepass", so ED A0 80 comes through as a lone surrogate too.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_NUL = re.compile(rb"\\u0000")  # inside a JSON string NUL can only come escaped


class _NotFinite(Exception):
    """Raised inside the parser at the first non-finite number (then located by a re-parse)."""


class _Bad:
    """A placeholder for a refused number, so a second parse can say where it was."""

    def __init__(self, text: str) -> None:
        self.text = text


def _refuse_constant(_text: str) -> Any:
    raise _NotFinite


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite
    return value


def _marked_float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _Bad(text)


def field_path(path: list[str | int]) -> str:
    """`["batch", 2, "traits", "budget"]` -> `batch[2].traits.budget` (`body` for the root)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "body"


def _refused(where: str, reason: str) -> Invalid:
    return Invalid(f"{where}: {reason}", [(where, reason)])


def loads(raw: bytes | str, *, nul: bool = False) -> Any:
    """The document, or Invalid naming the field that is not strict, storable JSON; `nul`
    lets NUL characters through for a caller that drops them (the Segment path)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    try:
        document = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFinite:
        _locate_non_finite(data)
        raise _refused("body", "numbers must be finite") from None
    except RecursionError:
        raise _refused("body", f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
            raise
        # int() refuses numbers of over 4,300 digits (CPython's limit against slow parsing)
        raise _refused("body", "a number has too many digits") from None
    deep = data.count(b"[") + data.count(b"{") > MAX_DEPTH
    if deep or _SURROGATE.search(data) or (not nul and _NUL.search(data)):
        check(document, nul=nul)
    return document


def _locate_non_finite(data: bytes) -> None:
    document = json.loads(data, parse_constant=_Bad, parse_float=_marked_float)
    for path, value in _walk(document, []):
        if isinstance(value, _Bad):
            raise _refused(
                field_path(path), f"{value.text} is not a JSON number (numbers must be finite)"
            )


def check(document: Any, *, nul: bool = False) -> None:
    """Invalid unless every number is finite, every string storable (`nul`: but for NUL
    characters) and nesting shallow."""
    for path, value in _walk(document, [], nul):
        if isinstance(value, float) and not math.isfinite(value):
            raise _refused(field_path(path), "numbers must be finite")
        if isinstance(value, str) and (why := _unstorable(value, nul)):
            raise _refused(field_path(path), f"text holds {why}")


def storable(where: str, text: str) -> None:
    """Invalid naming `where` when the text (a form's field) holds what no database stores."""
    if why := _unstorable(text, nul=False):
        raise _refused(where, f"text holds {why}")


def refusal(where: str, text: str) -> str | None:
    """`storable`'s refusal as words (`where: text holds ...`; a file's cell), or None."""
    why = _unstorable(text, nul=False)
    return None if why is None else f"{where}: text holds {why}"


def _unstorable(text: str, nul: bool) -> str | None:
    """What in the text no database stores as text, or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (\\ud800-\\udfff)"
    return None if nul or "\x00" not in text else "a NUL character (\\u0000)"


def _walk(
    value: Any, path: list[str | int], nul: bool = False
) -> Iterator[tuple[list[str | int], Any]]:
    # Iterative, so a document nested deeper than the interpreter's stack is still checked.
    stack: list[tuple[Any, list[str | int]]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise _refused(field_path(where[:1]), f"nested more than {MAX_DEPTH} levels deep")
        yield where, node
        if isinstance(node, dict):
            for key, item in node.items():
                if why := _unstorable(key, nul):
                    raise _refused(field_path(where), f"a key holds {why}")
                stack.append((item, [*where, key]))
        elif isinstance(node, list):
            stack.extend((item, [*where, i]) for i, item in enumerate(node))
