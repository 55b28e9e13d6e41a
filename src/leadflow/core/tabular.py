"""Files as people have them: encodings, delimiters, decimal commas and "missing" placeholders.

Pure functions over bytes and text; `services/files.py` does the reading. Every guess is
reported back (`Dialect`) so the command can print what it chose, and every guess can be
overridden by the caller.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from leadflow.core import amounts
from leadflow.core.errors import Invalid

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_LINES = 50

# Values that mean "nothing was entered": spreadsheets, CRMs and web forms write these.
MISSING = frozenset(
    {
        "",
        "n/a",
        "#n/a",
        "na",
        "null",
        "none",
        "nil",
        "nan",
        "unknown",
        "not provided",
        "not specified",
        "please select",
        "please choose",
        "select",
        "select one",
        "choose one",
    }
)
_PLACEHOLDER_EDGES = " \t-_.*()[]<>"

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_COMMA_NUMBER = re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_COMMA_HINT = re.compile(r"[-+]?\d+(\.\d{3})*,(\d{1,2}|\d{4,})")
_POINT_HINT = re.compile(r"[-+]?(\d+|\d{1,3}(,\d{3})+)\.(\d{1,2}|\d{4,})")


@dataclass(frozen=True, slots=True)
class Dialect:
    """How a file was read: its encoding, delimiter and number style."""

    encoding: str
    delimiter: str = ","
    decimal_comma: bool = False

    def describe(self) -> str:
        """E.g. `windows-1252, semicolon-separated, decimal comma`."""
        parts = [self.encoding, f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-"
                 "separated"]  # fmt: skip
        if self.decimal_comma:
            parts.append("decimal comma")
        return ", ".join(parts)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of a file and the encoding it was read with (given, from its BOM, or guessed).

    Without a BOM: UTF-16 when every other byte of the start is NUL (Excel's "Unicode text"),
    else UTF-8 when the bytes are valid UTF-8, else Windows-1252 (a superset of Latin-1's
    printable characters), else Latin-1, which decodes any byte.
    """
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise Invalid(f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise Invalid(f"not {encoding}: byte {exc.start} is {data[exc.start]:#04x}") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name.removesuffix("-sig")
            except UnicodeDecodeError as exc:
                raise Invalid(f"starts like {name} but byte {exc.start} is not") from None
    if _looks_utf16(data):
        name = "utf-16-le" if data[1:2] == b"\0" else "utf-16-be"
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            pass
    for name in ("utf-8", "windows-1252", "latin-1"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _looks_utf16(data: bytes) -> bool:
    start = data[:512]
    if len(start) < 4:
        return False
    even, odd = start[0::2], start[1::2]
    return odd.count(0) > 0.9 * len(odd) or even.count(0) > 0.9 * len(even)


BINARY_SNIFF = 4096  # characters of a file's start read to tell a binary file
SIGNS_SHOWN = 5  # kinds of control character a binary file's refusal names
# Control characters no text file holds (tab, line feed, form feed and carriage return do).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def binary_signs(text: str) -> str | None:
    """What makes decoded text a binary file's, in words, or None: a NUL in its first line
    (the header), or more than 8 control characters, over one in 64 characters of its start
    (`37 control characters in its first 4,096 characters (NUL, \\x1a)`). A few stray NULs
    in data rows are bad cells, named by their lines wherever they are (`services.files`)."""
    start = text[:BINARY_SNIFF]
    if "\0" in start.split("\n", 1)[0]:
        return "a NUL character in its first line"
    controls = _BINARY.findall(start)
    if len(controls) <= 8 or len(controls) * 64 <= len(start):
        return None
    kinds = sorted(set(controls))
    named = ", ".join("NUL" if c == "\0" else f"\\x{ord(c):02x}" for c in kinds[:SIGNS_SHOWN])
    more = ", ..." if len(kinds) > SIGNS_SHOWN else ""
    return (f"{len(controls)} control characters in its first {len(start):,} characters "
            f"({named}{more})")  # fmt: skip


# The longest cell a row may hold, in characters: as many as Python's csv module reads by
# default. A longer cell (a pasted e-mail thread, a file's bytes in a cell) is a bad row of
# its own, named by its line and field (`services.files`), never the end of the file's reading.
MAX_CELL = 131_072


def _room_for(text: str) -> None:
    """Let the csv reader take a cell as long as the text. Its limit is the process's, so it
    is only ever raised: the text is in memory already, a cell of it costs no more, and
    `MAX_CELL` refuses the row rather than the reader ending the file at it."""
    if csv.field_size_limit() <= len(text):
        csv.field_size_limit(len(text) + 1)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (>1) of columns."""
    sample = _first_lines(text, SAMPLE_LINES)
    _room_for(text)
    best, best_key = ",", (0, 0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(sample, delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        key = (consistent, widths[0], -DELIMITERS.index(delimiter))
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _first_lines(text: str, count: int) -> list[str]:
    lines = io.StringIO(text, newline="").readlines(1 << 16)
    return lines[: count * 4]  # quoted newlines make a record span several lines


def decimal_comma(cells: Iterable[str], delimiter: str) -> bool:
    """True when the file's numbers are written `1.234,5` (the locale's decimal comma).

    Numbers such as `12,5` or `1.234,56` say comma, `12.5` or `1,234.56` say point; with
    neither (`1.200` could be either), a semicolon-separated file is taken to be from a
    decimal-comma locale, as that is where spreadsheets write semicolons.
    """
    comma = False
    for cell in cells:
        text = amounts.currency_split(cell)[1]
        if not text or not text[-1].isdigit():
            continue
        if _POINT_HINT.fullmatch(text):
            return False
        comma = comma or bool(_COMMA_HINT.fullmatch(text))
    return comma or delimiter == ";"


def number_text(text: str, comma: bool) -> str:
    """A number cell in the file's style as Python reads numbers (`1.234,5` -> `1234.5`), a
    currency sign beside it kept (`1.234,50 €` -> `1234.50 €`, for the importers to drop)."""
    stripped = text.strip()
    if comma and _COMMA_NUMBER.fullmatch(stripped):
        return stripped.replace(".", "").replace(",", ".")
    if comma and stripped and not (stripped[0].isdigit() and stripped[-1].isdigit()):
        before, rest, after = amounts.currency_split(stripped)
        if (before or after) and _COMMA_NUMBER.fullmatch(rest):
            return before + rest.replace(".", "").replace(",", ".") + after
    return text  # thousands commas in `1,234.5` are the importers' to drop (`records._number`)


def is_missing(value: object) -> bool:
    """True for a cell that means "no value": empty, `N/A`, `null`, `-`, `Please select`, ..."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    return value.strip(_PLACEHOLDER_EDGES).casefold() in MISSING


def clean_cell(value: str, comma: bool) -> str | None:
    """A cell as the importers read it: None when it means missing, numbers normalised."""
    if is_missing(value):
        return None
    return number_text(value, comma)


def cleaned_cells(cells: Iterable[str], comma: bool) -> dict[str, str | None]:
    """`clean_cell` of many distinct cells at once (inlined: imports judge 10^5-10^6 cells)."""
    edges, missing = _PLACEHOLDER_EDGES, MISSING
    found = {cell: None if cell.strip(edges).casefold() in missing else cell for cell in cells}
    if comma:
        for cell, value in found.items():
            if value is not None and (_COMMA_NUMBER.fullmatch(value.strip()) or _signed(value)):
                found[cell] = number_text(value, comma)
    return found


def _signed(cell: str) -> bool:
    """Whether a cell starts or ends with a currency sign (`$1.234,50`, `12,5 €`)."""
    stripped = cell.strip()
    return bool(stripped) and any(amounts.currency_split(stripped)[::2])


def rows_of(text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    """Records with the line each starts on (quoted newlines kept inside their cell)."""
    _room_for(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for record in reader:
            yield line, record
            line = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num}: {exc}") from None


def header_names(header: Sequence[str]) -> list[str]:
    """Header cells with stray whitespace and quotes trimmed."""
    return [h.strip().strip('"').strip() for h in header]
