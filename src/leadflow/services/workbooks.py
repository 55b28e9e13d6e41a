"""A workbook's (`.xlsx`) first sheet as numbered rows: only the cells it holds, each as the
CSV reader gives it (dates as ISO text, whole numbers without `.0`, placeholders missing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import chain
from pathlib import Path
from typing import Any

from leadflow.core import tabular
from leadflow.core.errors import Invalid
from leadflow.core.plural import counted
from leadflow.services import file_rows
from leadflow.services.file_rows import Entry, Naming, RowError

NAMES_SHOWN = 10  # other sheets named in the description; more are counted


def open_workbook(path: Path, name: Naming) -> tuple[Iterator[Entry], str]:
    """The first sheet's rows, and how the file was read: which sheet, and the others by
    name (not read: a sheet of leads beside it would otherwise go unimported unseen)."""
    from openpyxl import load_workbook  # imported when a workbook is read
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise Invalid(f"not a readable Excel workbook ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends: a damaged or renamed file
        raise Invalid(f"not a readable Excel workbook ({type(exc).__name__})") from None
    if not book.worksheets:  # only chart sheets
        book.close()
        raise Invalid("not a readable Excel workbook (it holds no sheet of cells)")
    return _sheet_rows(path, book, name), described(book.worksheets[0].title, book.sheetnames)


def described(read: str, sheets: list[str]) -> str:
    """E.g. `an Excel workbook, its first sheet 'Leads' (2 other sheets not read: 'Notes',
    'Lookup')`: `read` is the sheet read, `sheets` all the workbook's, in order."""
    others = [sheet for sheet in sheets if sheet != read]
    if not others:
        return f"an Excel workbook, its only sheet {read!r}"
    named = ", ".join(map(repr, others[:NAMES_SHOWN]))
    more = f" and {len(others) - NAMES_SHOWN} more" if len(others) > NAMES_SHOWN else ""
    return (f"an Excel workbook, its first sheet {read!r} "
            f"({counted(len(others), 'other sheet')} not read: {named}{more})")  # fmt: skip


def _sheet_rows(path: Path, book: Any, name: Naming) -> Iterator[Entry]:
    """The sheet's rows; Invalid naming the file where its XML cannot be read (a NUL written
    as `&#0;`, which XML forbids, say): the rows after it cannot be read either."""
    last = 1  # the header's row
    try:
        for number, entry in _sheet_entries(book, name):
            last = number
            yield number, entry
    except SyntaxError as exc:  # the XML parser's ParseError (ElementTree's or lxml's)
        raise Invalid(
            f"{path}: not a readable Excel workbook: its first sheet breaks off after row "
            f"{last} ({' '.join(str(exc).split())})"
        ) from None
    finally:
        book.close()


def _sheet_entries(book: Any, name: Naming) -> Iterator[Entry]:
    from openpyxl.utils import get_column_letter

    rows = _held_cells(book.worksheets[0])
    first = next(rows, None)
    if first is None:
        return
    line, held = first
    width = max(held, default=0)
    header = [held.get(k) for k in range(1, width + 1)] if line == 1 else []
    names = [name(str(h)) if h is not None else "" for h in header]
    twins = file_rows.twins(names)
    for number, held in rows if line == 1 else chain([first], rows):  # no header row
        cells = [_excel_cell(held.get(k)) for k in range(1, len(names) + 1)]
        beyond = {k: _excel_cell(v) for k, v in sorted(held.items()) if k > len(names)}
        if all(c is None for c in (*cells, *beyond.values())):
            continue
        # A cell right of the header is in a column without one, as a blank header's is.
        unnamed = file_rows.unnamed(names, cells, get_column_letter) or next(
            (
                file_rows.no_header(get_column_letter(k), v)
                for k, v in beyond.items()
                if v is not None
            ),
            None,
        )
        if unnamed:
            yield number, RowError(number, unnamed)
        elif twins and (clash := file_rows.clash(names, cells, twins, get_column_letter)):
            yield number, RowError(number, clash)
        else:
            yield number, file_rows.row_of(names, cells)


def _held_cells(sheet: Any) -> Iterator[tuple[int, dict[int, Any]]]:
    """(row number, {column number: value}) of each row the sheet holds, only the cells it
    holds. openpyxl's own rows are filled out to the sheet's last column and every missing
    row in between: a cell someone typed far out (XFD1048576) made billions of empty cells
    of a small file. Its parser reads the rows as stored (openpyxl 3.1, which is pinned)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    book = sheet.parent
    with sheet._get_source() as source:
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=book.data_only,
                                 epoch=book.epoch, date_formats=book._date_formats,
                                 timedelta_formats=book._timedelta_formats)  # fmt: skip
        for number, cells in parser.parse():
            yield number, {cell["column"]: cell["value"] for cell in cells}


def _excel_cell(value: Any) -> Any:
    if isinstance(value, bool):  # Excel's spelling, which its CSV writes (Python's is `True`)
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return None if tabular.is_missing(value) else value
    return value
