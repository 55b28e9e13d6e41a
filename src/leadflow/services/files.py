"""Reading CSV, Excel and JSON Lines files into numbered rows with canonical field names.

CSV files come as people's tools write them: the encoding (UTF-8 with or without BOM, UTF-16,
Windows-1252) and the delimiter (, ; tab |) are detected unless given, numbers written with a
decimal comma are read as numbers, and placeholders such as `N/A` or `Please select` mean
missing. What was chosen is in `Table.describe()`, for the command to print.

A row that cannot be read (a line that is not a JSON object, more values than columns) is a
`RowError` in the row's place in `Table.entries`, so one bad row never hides the rows after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadflow.core import strict_json, tabular
from leadflow.core.errors import Invalid
from leadflow.core.plural import counted
from leadflow.core.records import canonical_header
from leadflow.services import file_rows, workbooks
from leadflow.services.file_rows import Entry, Naming, Row, RowError

__all__ = ["Entry", "Row", "RowError", "Table", "open_table", "read_rows"]
CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
# Spreadsheets people have that are not read: what to do instead.
OTHER_SPREADSHEETS = {
    ".xls": "an older Excel workbook (.xls): save it",
    ".numbers": "a Numbers document (.numbers): export it",
    ".ods": "an OpenDocument spreadsheet (.ods): save it",
}
LOCALE_SAMPLE_ROWS = 2000  # enough rows to see how the file writes its numbers
DELIMITER_ALIASES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}


@dataclass
class Table:
    """A file's rows (read lazily, each good or a `RowError`) and how the file was read."""

    path: Path
    entries: Iterator[Entry]
    how: str
    headers: list[str] | None = None  # known up front for CSV files

    @property
    def rows(self) -> Iterator[Row]:
        """The rows, raising the first bad row's `RowError` (for readers that take no bad row)."""
        for line, row in self.entries:
            if isinstance(row, RowError):
                raise row
            yield line, row

    def describe(self) -> str:
        """E.g. `contacts.csv: read as windows-1252, semicolon-separated, decimal comma`."""
        return f"{self.path.name}: read as {self.how}"


def delimiter_of(value: str | None) -> str | None:
    """`;`, `semicolon`, `tab` or `\\t` as the one character the reader splits on."""
    if value is None:
        return None
    found = DELIMITER_ALIASES.get(value.lower(), value)
    if len(found) != 1 or found in '"\r\n':
        raise Invalid(f"--delimiter {value!r}: give one character, or comma, semicolon, tab, pipe")
    return found


def open_table(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    raw_headers: bool = False,
) -> Table:
    """The rows of a .csv/.tsv/.txt, .xlsx or .jsonl file; Invalid names the file and why.

    Rows are keyed by our field names (`canonical_header`), or by the file's own headers
    with `raw_headers`.
    """
    name = _trimmed if raw_headers else canonical_header
    if not path.exists():
        raise Invalid(f"{path}: no such file")
    if path.is_dir():
        raise Invalid(f"{path}: a folder, not a file")
    suffix = path.suffix.lower()
    try:
        if suffix in JSON_SUFFIXES:
            data = path.read_bytes()
            text, used = tabular.decode(data, encoding)
            if document := _one_document(text):
                raise Invalid(
                    f"one JSON document ({document}), not JSON Lines (one object a line, "
                    "which is what is read): write each item on a line of its own "
                    "(jq -c '.[]' does)"
                )
            return Table(path, _jsonl_rows(text, name), f"{used}, JSON Lines")
        if suffix in EXCEL_SUFFIXES:
            entries, how = workbooks.open_workbook(path, name)
            return Table(path, entries, how)
        if suffix in CSV_SUFFIXES:
            return _csv_table(path, path.read_bytes(), encoding, delimiter_of(delimiter), name)
    except OSError as exc:
        raise Invalid(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except Invalid as exc:
        raise Invalid(f"{path}: {exc.message}") from None
    if suffix in OTHER_SPREADSHEETS:
        raise Invalid(f"{path}: {OTHER_SPREADSHEETS[suffix]} as .xlsx or CSV, then give that")
    raise Invalid(f"{path}: unknown file type {suffix!r}; use .csv, .tsv, .xlsx or .jsonl")


def read_rows(
    path: Path, *, encoding: str | None = None, delimiter: str | None = None
) -> Iterator[Row]:
    """Rows of a file, numbered by the line (or sheet row) each starts on."""
    return open_table(path, encoding=encoding, delimiter=delimiter).rows


def _trimmed(header: str) -> str:
    return header.strip().lstrip("\ufeff").strip()


def _csv_table(
    path: Path, data: bytes, encoding: str | None, delimiter: str | None, name: Naming
) -> Table:
    text, used = tabular.decode(data, encoding)
    if signs := tabular.binary_signs(text):
        raise Invalid(f"a binary file, not text ({signs})")
    split = delimiter or tabular.sniff_delimiter(text)
    # An empty line holds no row (a file may start or end with several): the header is the
    # first line that holds anything, and an empty line after it is skipped, not a row of
    # nothing every import would refuse.
    records = [(line, record) for line, record in tabular.rows_of(text, split) if record]
    if not records:
        return Table(path, iter(()), tabular.Dialect(used, split).describe(), [])
    # Each distinct cell is judged once (placeholder? number style?): a 100,000-row file has
    # a million cells but far fewer distinct values.
    distinct = set().union(*(record for _, record in records[1:]))
    sample = set().union(*(record for _, record in records[1 : 1 + LOCALE_SAMPLE_ROWS]))
    comma = tabular.decimal_comma(sample, split)
    cleaned = tabular.cleaned_cells(distinct, comma)
    names = [name(h) for h in tabular.header_names(records[0][1])]
    for k, header in enumerate(records[0][1], start=1):
        if refused := strict_json.refusal(f"the header of column {k}", header):
            raise Invalid(refused)
    how = tabular.Dialect(used, split, comma).describe()
    unstorable = _refused_cells(text, distinct)
    return Table(path, _csv_rows(records[1:], cleaned, names, unstorable), how, names)


def _refused_cells(text: str, distinct: set[str]) -> set[str]:
    """The file's cells no row may hold, each refused naming its field (`_cell_refusal`): a
    NUL no database stores as text (PostgreSQL refuses it, SQLite kept it), as a JSON line's
    is, and a cell longer than `tabular.MAX_CELL`. Looked for only in a file that could hold
    one, so other files pay one scan of their text."""
    found = {cell for cell in distinct if "\0" in cell} if "\0" in text else set()
    if len(text) > tabular.MAX_CELL:
        found.update(cell for cell in distinct if len(cell) > tabular.MAX_CELL)
    return found


def _cell_refusal(where: str, cell: str) -> str | None:
    """Why a row may not hold the cell (`where: ...`), or None."""
    if len(cell) > tabular.MAX_CELL:
        return (
            f"{where}: {len(cell):,} characters, more than a cell may hold ({tabular.MAX_CELL:,})"
        )
    return strict_json.refusal(where, cell)


def _csv_rows(
    records: list[tuple[int, list[str]]],
    cleaned: dict[str, str | None],
    names: list[str],
    refused: set[str],
) -> Iterator[Entry]:
    named = all(names)
    twins = file_rows.twins(names)
    for line, record in records:
        if len(record) > len(names):
            yield line, RowError(line, f"{len(record)} values for {len(names)} columns")
            continue
        if refused and (held := _refused_cell(names, record, refused)):
            yield line, RowError(line, held)
            continue
        values = list(map(cleaned.__getitem__, record))
        if twins and (clash := file_rows.clash(names, values, twins, str)):
            yield line, RowError(line, clash)
            continue
        if named and None not in values:
            yield line, dict(zip(names, values, strict=False))
            continue
        if not named and (unnamed := file_rows.unnamed(names, values, str)):
            yield line, RowError(line, unnamed)
            continue
        row = file_rows.row_of(names, values)
        if row:  # a row of nothing but blanks and placeholders is skipped
            yield line, row


def _refused_cell(names: list[str], record: list[str], refused: set[str]) -> str | None:
    """The refusal of the row's first cell no row may hold (`refused`: the file's such cells),
    naming its field (or its column, counted from 1, when it has no header), else None."""
    for k, cell in enumerate(record):
        if cell in refused:
            return _cell_refusal(names[k] or f"column {k + 1}", cell)
    return None


def _one_document(text: str) -> str | None:
    """What the file is when it is one JSON document rather than JSON Lines (`an array of 3
    items`, `an object` written over several lines), else None. Read only when its first
    line is no object: a JSON Lines file pays one parse of that line."""
    stripped = text.strip()
    first, newline, _ = stripped.partition("\n")
    if not stripped or _parsed(first, dict):
        return None
    whole, several = _parsed(stripped, object), bool(newline)
    if isinstance(whole, list) and (several or (whole and all(isinstance(x, dict) for x in whole))):
        return f"an array of {counted(len(whole), 'item')}"
    if isinstance(whole, dict) and several:
        return "an object"
    return None


def _parsed(text: str, kind: type) -> Any:
    """The JSON value of `text` when it is one and of `kind`, else None (detection only:
    rows are read by `strict_json`)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, kind) else None


def _jsonl_rows(text: str, name: Naming) -> Iterator[Entry]:
    for line, chunk in enumerate(text.splitlines(), start=1):
        if chunk.strip():
            yield line, _json_object(line, chunk, name)


def _json_object(line: int, chunk: str, name: Naming) -> dict[str, Any] | RowError:
    """One line read as the API reads a body (`strict_json`): a bad number names its field."""
    try:
        data = strict_json.loads(chunk)
    except Invalid as exc:  # not finite, a lone surrogate, too deep: `properties.x: ...`
        return RowError(line, exc.message.removeprefix("body: "))
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        reason = getattr(exc, "msg", None) or str(exc)
        return RowError(line, f"not valid JSON ({reason})")
    if not isinstance(data, dict):
        return RowError(line, "each line must be a JSON object")
    row = {name(k): v for k, v in data.items()}
    if len(row) == len(data):
        return row
    row, given = {}, {}  # keys read as one field (`email`, `Email`): they must agree
    for key, value in data.items():
        field = name(key)
        if row.get(field) is None:
            row[field], given[field] = value, key
        elif value is not None and value != row[field]:
            shown = f"({file_rows.shown(row[field])}, {file_rows.shown(value)})"
            return RowError(
                line, f"keys {given[field]} and {key} are both {field}, and differ {shown}"
            )
    return row
