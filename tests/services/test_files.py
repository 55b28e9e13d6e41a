"""Reading the files people have: every delimiter, encoding, placeholder and Excel."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from leadflow.core.errors import Invalid
from leadflow.core.records import AccountRecord, EventRecord
from leadflow.services.files import RowError, open_table, read_rows
from leadflow.services.importing import ImportRejected, validate_rows
from leadflow.services.tuning import load_history
from tests.services.test_tuning import crm_export

HEADER = ["Email", "First Name", "Company Name", "Number of Employees", "Industry"]
ROWS = [
    ["dan@acme.de", "Dän", "Acme GmbH", "1.234", "Maschinenbau"],
    ["eva@beta.de", "Eva", "N/A", "12", "Please select"],
]


def _csv_bytes(rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "windows-1252"])
def test_every_delimiter_and_encoding_reads_the_same_rows(
    tmp_path: Path, delimiter: str, encoding: str
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(_csv_bytes([HEADER, *ROWS], delimiter, encoding))
    table = open_table(path)
    rows = list(table.rows)
    assert [line for line, _ in rows] == [2, 3]
    assert rows[0][1]["first_name"] == "Dän"
    assert rows[0][1]["email"] == "dan@acme.de"
    assert "company" not in rows[1][1] and "industry" not in rows[1][1]  # placeholders: missing
    expected = {"utf-8-sig": "utf-8"}.get(encoding, encoding)
    assert table.describe().startswith(f"contacts.csv: read as {expected}")


def test_decimal_commas_become_numbers_where_the_file_uses_them(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("email;employees;annual revenue\na@x.de;1.200;2.500.000,50\nb@y.de;80;75,5\n")
    table = open_table(path)
    rows = [row for _, row in table.rows]
    assert rows[0]["employees"] == "1200" and rows[0]["annual_revenue"] == "2500000.50"
    assert rows[1]["annual_revenue"] == "75.5"
    assert table.how == "utf-8, semicolon-separated, decimal comma"


def test_an_amount_with_its_currency_sign_in_a_decimal_comma_file_is_read(tmp_path: Path) -> None:
    # Before: `$1.234,50` kept its comma past the file's reading, and the record dropped every
    # comma and the `$`: it was stored as 1.2345. `1.234,50 €` was refused.
    path = tmp_path / "konten.csv"
    path.write_text("domain;annual revenue\na.de;$1.234,50\nb.de;1.234,50 €\nc.de;€ 75,5\n")
    records, _ = validate_rows("account", open_table(path).entries, AccountRecord, False)
    assert [r.annual_revenue for r in records] == [1234.5, 1234.5, 75.5]


def test_the_delimiter_and_encoding_can_be_given(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes("email|name\na@x.io|Zoë\n".encode("latin-1"))
    rows = list(read_rows(path, encoding="latin-1", delimiter="pipe"))
    assert rows == [(2, {"email": "a@x.io", "name": "Zoë"})]
    with pytest.raises(Invalid, match="--delimiter 'ab': give one character"):
        open_table(path, delimiter="ab")


def test_an_excel_sheet_is_read(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["dan@acme.de", "Dän", "Acme GmbH", 1234, "Maschinenbau"])
    sheet.append([None, None, None, None, None])
    sheet.append(["eva@beta.de", "Eva", "N/A", 12.0, None])
    book.save(tmp_path / "leads.xlsx")
    rows = list(read_rows(tmp_path / "leads.xlsx"))
    assert rows[0] == (2, {"email": "dan@acme.de", "first_name": "Dän", "company": "Acme GmbH",
                           "employees": "1234", "industry": "Maschinenbau"})  # fmt: skip
    assert rows[1] == (4, {"email": "eva@beta.de", "first_name": "Eva", "employees": "12"})


def _workbook(path: Path, *others: str) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    sheet.append(["email"])
    sheet.append(["a@acme.com"])
    for title in others:
        book.create_sheet(title).append(["email", "b@acme.com"])
    book.save(path)
    return path


def test_a_true_cell_reads_as_its_csv_does(tmp_path: Path) -> None:
    """Excel's TRUE cell was read as `True` (Python's spelling), its CSV as `TRUE`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "newsletter", "partner"])
    sheet.append(["a@acme.com", True, False])
    book.save(tmp_path / "book.xlsx")
    book_row = list(open_table(tmp_path / "book.xlsx").rows)
    (tmp_path / "book.csv").write_text("email,newsletter,partner\na@acme.com,TRUE,FALSE\n")
    csv_row = list(open_table(tmp_path / "book.csv").rows)
    assert book_row == csv_row == [(2, {"email": "a@acme.com", "newsletter": "TRUE",
                                        "partner": "FALSE"})]  # fmt: skip


def test_a_workbook_names_the_sheet_it_reads_and_every_other_it_does_not(tmp_path: Path) -> None:
    """Only the first sheet is read, and nothing said so: rows on the others went unimported."""
    table = open_table(_workbook(tmp_path / "book.xlsx", "Notes", "Lookup"))
    assert table.describe() == ("book.xlsx: read as an Excel workbook, its first sheet 'Leads' "
                                "(2 other sheets not read: 'Notes', 'Lookup')")  # fmt: skip
    assert list(table.rows) == [(2, {"email": "a@acme.com"})]
    alone = open_table(_workbook(tmp_path / "one.xlsx"))
    assert alone.describe() == "one.xlsx: read as an Excel workbook, its only sheet 'Leads'"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.csv", None, "no such file"),
        ("bin.csv", b"\x00\x01\x02\x00" * 50, "a binary file"),
        ("broken.xlsx", b"not a zip at all", "not a readable Excel workbook"),
        ("data.parquet", b"PAR1", "unknown file type '.parquet'"),
        # Before, these said only "unknown file type": the workbook people have, not what to do.
        ("old.xls", b"\xd0\xcf\x11\xe0" + bytes(60), "an older Excel workbook (.xls): save it"),
        ("mac.numbers", b"PK\x03\x04", "a Numbers document (.numbers): export it"),
        ("calc.ods", b"PK\x03\x04", "an OpenDocument spreadsheet (.ods): save it"),
        ("quote.csv", b'email,name\na@x.io,"unclosed\n', "line"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_why(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(Invalid) as caught:
        list(read_rows(path))
    assert str(path) in caught.value.message or name in caught.value.message
    assert caught.value.message.count(name) == 1  # the file named once
    assert reason in caught.value.message and "\n" not in caught.value.message


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".xlsx"]))
def test_no_file_makes_a_traceback(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"any{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(Invalid):  # a clear refusal is fine; anything else is a bug
        list(read_rows(path))


def _event(n: int) -> str:
    return json.dumps({"email": f"p{n}@acme.com", "type": "track", "name": f"e{n}",
                       "timestamp": "2026-01-05T10:00:00Z", "properties": {"n": n}})  # fmt: skip


# Lines no import can take, and what each is refused for (a number that is not finite is named
# by its field, as /api/events names it).
BAD_LINES = {
    "not json": "not valid JSON",
    "[1, 2]": "each line must be a JSON object",
    '{"email": "x@acme.com", "properties": {"x": 1e400}}': "properties.x: 1e400 is not a JSON",
    '{"email": "x@acme.com", "properties": {"x": NaN}}': "properties.x: NaN is not a JSON",
    '{"email": "x@acme.com", "budget": -Infinity}': "budget: -Infinity is not a JSON",
    '{"email": "x@acme.com", "properties": {"x": "a\\u0000"}}': "properties.x: text holds a NUL",
    '{"unclosed": ': "not valid JSON",
    '{"email": "no e-mail", "type": "track", "timestamp": "2026-01-05"}': "email:",
}
LINE = st.one_of(st.just("good"), st.just(""), st.sampled_from(sorted(BAD_LINES)))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, min_size=1, max_size=12))
def test_every_good_json_line_is_read_and_every_bad_one_named_by_line(
    tmp_path: Path, lines: list[str]
) -> None:
    text = [_event(n) if kind == "good" else kind for n, kind in enumerate(lines, start=1)]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(text) + "\n")
    good = [f"e{n}" for n, kind in enumerate(lines, start=1) if kind == "good"]
    bad = [(n, BAD_LINES[kind]) for n, kind in enumerate(lines, start=1) if kind in BAD_LINES]

    records, report = validate_rows("event", open_table(path).entries, EventRecord, True)
    assert [r.name for r in records] == good
    assert len(report.problems) == len(bad)
    for problem, (line, reason) in zip(report.problems, bad, strict=True):
        assert problem.startswith(f"line {line}: ") and reason in problem, problem
    if bad:  # without --skip-invalid: every bad line listed, nothing taken
        with pytest.raises(ImportRejected) as caught:
            validate_rows("event", open_table(path).entries, EventRecord, False)
        assert caught.value.problems == report.problems


NUL_SAID = "text holds a NUL character (\\u0000)"  # as a JSON line's NUL is named


def test_a_nul_in_a_csv_cell_is_a_row_error_naming_its_line_and_field_wherever_it_is(
    tmp_path: Path,
) -> None:
    """A NUL after the first 4 KB (all the binary sniff reads) was read as text: SQLite stored
    it, PostgreSQL failed the import with a database error naming nothing; one in a data row
    of the first 4 KB refused the file as binary, naming no line."""
    pad = "".join(f"p{i}@acme.com,Pad,\n" for i in range(300))  # over 4 KB
    path = tmp_path / "late.csv"
    path.write_text("email,title,Favourite\na@acme.com,C\0EO,\n" + pad + "b@acme.com,CEO,r\0d\n")
    entries = list(open_table(path).entries)
    assert len(entries) == 302
    bad = [(line, str(row)) for line, row in entries if isinstance(row, RowError)]
    assert bad == [(2, f"line 2: title: {NUL_SAID}"), (303, f"line 303: favourite: {NUL_SAID}")]
    assert entries[1] == (3, {"email": "p0@acme.com", "title": "Pad"})


LONG = 131_072 + 1  # a character more than Python's csv module reads in a cell by default


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_cell_too_long_is_a_row_error_naming_its_line_and_field(
    tmp_path: Path, delimiter: str
) -> None:
    """A cell over 128 KB refused the whole file in the csv module's words (`field larger than
    field limit (131072)`), which --skip-invalid could not get past."""
    long = "x" * LONG
    rows = [
        "email,notes,",
        "a@acme.com,short,",
        f'b@acme.com,"{long[:10]}\n{long}",',
        "c@acme.com,,",
    ]
    path = tmp_path / "notes.csv"
    path.write_text("\n".join(row.replace(",", delimiter) for row in rows) + "\n")
    table = open_table(path)
    assert table.headers == ["email", "notes", ""]
    entries = list(table.entries)
    assert [line for line, _ in entries] == [2, 3, 5]
    assert entries[0][1] == {"email": "a@acme.com", "notes": "short"}
    assert str(entries[1][1]) == (
        f"line 3: notes: {LONG + 11:,} characters, more than a cell may hold (131,072)"
    )
    assert entries[2][1] == {"email": "c@acme.com"}


def test_a_cell_of_128_kb_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(f"email,notes\na@acme.com,{'x' * (LONG - 1)}\n")
    assert list(open_table(path).rows) == [(2, {"email": "a@acme.com", "notes": "x" * (LONG - 1)})]


def test_a_nul_written_in_an_excel_sheet_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """A NUL written in a sheet's XML (`&#0;`, which XML forbids) ended the import with a
    traceback from the XML parser."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "title"])
    sheet.append(["a@acme.com", "CEO"])
    sheet.append(["b@acme.com", "MARKER"])
    book.save(tmp_path / "plain.xlsx")
    path = tmp_path / "nul.xlsx"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as source, zipfile.ZipFile(path, "w") as out:
        for item in source.infolist():
            out.writestr(item, source.read(item.filename).replace(b"MARKER", b"C&#0;EO"))
    with pytest.raises(Invalid) as caught:
        list(open_table(path).entries)
    message = caught.value.message
    assert message.startswith(f"{path}: not a readable Excel workbook: its first sheet breaks "
                              "off after row 2 (")  # fmt: skip
    assert "\n" not in message


def test_a_bad_row_in_the_middle_of_a_csv_stops_no_later_row(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("email,name\na@x.io,A\nb@x.io,B,extra\nc@x.io,C\n")
    entries = list(open_table(path).entries)
    assert [line for line, _ in entries] == [2, 3, 4]
    assert isinstance(entries[1][1], RowError) and entries[1][1].line == 3
    assert entries[2][1] == {"email": "c@x.io", "name": "C"}
    with pytest.raises(RowError, match="line 3: 3 values for 2 columns"):  # `rows` stops there
        list(open_table(path).rows)


@pytest.mark.parametrize("indent", [None, 2])
def test_a_json_file_holding_one_array_is_one_line_saying_what_to_write(
    tmp_path: Path, indent: int | None
) -> None:
    # Before: a .json export (one array of objects, as most tools write .json) was read as
    # JSON Lines: `line 1: each line must be a JSON object`, or, pretty-printed, a bad row for
    # every line of the file ("not valid JSON (Extra data)"), none saying what was wrong.
    path = tmp_path / "contacts.json"
    path.write_text(json.dumps([{"email": "a@x.io"}, {"email": "b@x.io"}], indent=indent))
    with pytest.raises(Invalid) as refused:
        list(open_table(path).entries)
    message = refused.value.message
    assert message.startswith(f"{path}: one JSON document (an array of 2 items), not JSON Lines")
    assert "one object a line" in message and "\n" not in message
    pretty = tmp_path / "one.json"
    pretty.write_text(json.dumps({"email": "a@x.io", "title": "CEO"}, indent=2))
    with pytest.raises(Invalid, match="one JSON document \\(an object\\), not JSON Lines"):
        open_table(pretty)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_in_a_csv_are_no_rows(tmp_path: Path, newline: str) -> None:
    # Before: an empty line (between rows, or the several a hand-edited file or a CRM export
    # ends with) was read as a row of nothing, which every import refused ("email: Field
    # required"), so the whole file was refused for lines holding no data.
    path = tmp_path / "gaps.csv"
    path.write_text(newline.join(["email,name", "", "a@x.io,A", "", "", "b@x.io,B", "", ""]))
    assert list(open_table(path).entries) == [
        (3, {"email": "a@x.io", "name": "A"}),
        (6, {"email": "b@x.io", "name": "B"}),
    ]
    only_blanks = tmp_path / "header.csv"
    only_blanks.write_text("email" + newline * 4)  # one column: a blank line is still no row
    assert list(open_table(only_blanks).entries) == []
    late_header = tmp_path / "late.csv"
    late_header.write_text(newline.join(["", "", "email,name", "c@x.io,C", ""]))
    table = open_table(late_header)
    assert table.headers == ["email", "name"]
    assert list(table.entries) == [(4, {"email": "c@x.io", "name": "C"})]


def test_a_value_under_a_column_without_a_header_is_named_not_dropped(tmp_path: Path) -> None:
    # Before: the value was left out of the row without a word (a column someone forgot to
    # name, or the header row shifted), in CSV and Excel alike.
    path = tmp_path / "gap.csv"
    path.write_text("email,,name,\na@x.io,,A,\nb@x.io,oops,B,\n")
    entries = list(open_table(path).entries)
    assert entries[0] == (2, {"email": "a@x.io", "name": "A"})  # blank cells there: fine
    assert isinstance(entries[1][1], RowError)
    assert str(entries[1][1]) == "line 3: a value in column 2, which has no header ('oops')"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", None, "name"])
    sheet.append(["c@x.io", None, "C"])
    sheet.append(["d@x.io", 42, "D"])
    book.save(tmp_path / "gap.xlsx")
    rows = list(open_table(tmp_path / "gap.xlsx").entries)
    assert rows[0] == (2, {"email": "c@x.io", "name": "C"})
    assert str(rows[1][1]) == "line 3: a value in column B, which has no header ('42')"


def test_two_columns_read_as_one_field_that_disagree_are_named_not_one_dropped(
    tmp_path: Path,
) -> None:
    # Before: the later column's value silently replaced the earlier one's (`email,email`, or
    # a CRM export with both `Email` and `Email Address`), in CSV, Excel and JSON Lines alike.
    path = tmp_path / "twice.csv"
    path.write_text(
        "Email,First Name,first_name,Email Address\n"
        "a@x.io,Ann,Ann,a@x.io\n"  # the same value twice: fine
        "b@x.io,Bo,,\n"  # one of them blank: fine
        "c@x.io,Cy,Cyd,c@x.io\n"
        "d@x.io,Di,Di,e@x.io\n"
    )
    entries = list(open_table(path).entries)
    assert entries[0] == (2, {"email": "a@x.io", "first_name": "Ann"})
    assert entries[1] == (3, {"email": "b@x.io", "first_name": "Bo"})
    assert [str(e) for _, e in entries[2:]] == [
        "line 4: columns 2 and 3 are both first_name, and differ ('Cy', 'Cyd')",
        "line 5: columns 1 and 4 are both email, and differ ('d@x.io', 'e@x.io')",
    ]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "outcome", " outcome "])
    sheet.append(["f@x.io", "won", "won"])
    sheet.append(["g@x.io", "won", "lost"])
    book.save(tmp_path / "twice.xlsx")
    rows = list(open_table(tmp_path / "twice.xlsx", raw_headers=True).entries)
    assert rows[0] == (2, {"email": "f@x.io", "outcome": "won"})
    assert str(rows[1][1]) == "line 3: columns B and C are both outcome, and differ ('won', 'lost')"
    lines = tmp_path / "twice.jsonl"
    lines.write_text(
        '{"email": "h@x.io", "Email": "i@x.io"}\n{"email": "j@x.io", "Email": "j@x.io"}\n'
    )
    rows = list(open_table(lines).entries)
    assert (
        str(rows[0][1])
        == "line 1: keys email and Email are both email, and differ ('h@x.io', 'i@x.io')"
    )
    assert rows[1] == (2, {"email": "j@x.io"})


@pytest.mark.parametrize(
    ("won", "lost"),
    [("yes", "no"), ("TRUE", "FALSE"), ("1", "0"), ("Won", "Lost"), ("Closed Won", "Closed Lost"),
     ("closed_won", "closed-lost")],
)  # fmt: skip
def test_history_targets_in_every_spelling_and_delimiter(
    tmp_path: Path, won: str, lost: str
) -> None:
    source = crm_export(tmp_path / "crm.csv", 200)
    with source.open(newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        row[-1] = won if row[-1] == "yes" else lost
    rows[1][-1] = "N/A"  # an outcome nobody entered: left out, and said so
    rows[2][1] = "Bäckerei"
    path = tmp_path / "crm_eu.csv"
    path.write_bytes(_csv_bytes(rows, ";", "windows-1252"))
    history = load_history(path, "Closed Won", ["Email"])
    expected = np.array([1 if r[-1] == won else 0 for r in rows[2:]])
    assert np.array_equal(history.outcome, expected)
    assert history.skipped["Closed Won"] == "1 row with no outcome left out"
    assert "Industry" in history.columns and history.read_as.startswith("windows-1252, semicolon")


def test_a_stray_cell_far_out_in_a_workbook_is_named_without_reading_every_empty_cell(
    tmp_path: Path,
) -> None:
    # A cell someone typed far out (the sheet's last cell, XFD1048576) made the reader fill
    # every row out to that column and every missing row in between: 17 billion empty cells
    # for a 5 KB file (a stray cell at ZZZ2000 took 19 s). Only the cells the sheet holds
    # are read; the stray one is still named.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name"])
    sheet.append(["a@x.io", "A"])
    sheet["XFD1048576"] = "stray"
    book.save(tmp_path / "far.xlsx")
    entries = list(open_table(tmp_path / "far.xlsx").entries)
    assert entries[0] == (2, {"email": "a@x.io", "name": "A"})
    assert [(line, str(e)) for line, e in entries[1:]] == [
        (1_048_576, "line 1048576: a value in column XFD, which has no header ('stray')")
    ]
