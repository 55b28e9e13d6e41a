"""`leadflow import` with the files people have: Excel in Europe, UTF-16, workbooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.cli.conftest import Run, as_json

EU_HEADER = (
    "Vorname;Nachname;Email;Job Title;Company Name;Company Domain Name;Number of Employees\r\n"
)


def test_a_semicolon_windows_1252_file_imports_and_says_how_it_was_read(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "kontakte.csv"
    body = (
        EU_HEADER + "Dän;Müller;dan@acme-logistik.de;VP Operations;Acme;acme-logistik.de;1.200\r\n"
    )
    path.write_bytes(body.encode("windows-1252"))
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 0, result.output
    assert "kontakte.csv: read as windows-1252, semicolon-separated" in result.stderr
    assert "imported 1 lead from 1 row of" in result.stdout
    lead = as_json(initialised("leads", "show", "dan@acme-logistik.de", "--json"))
    assert lead["attributes"].get("vorname") == "Dän"
    assert lead["account"]["employees"] == 1200


def test_utf16_and_excel_files_import(initialised: Run, tmp_path: Path) -> None:
    text = "Email\tFirst Name\tCompany Domain Name\r\nzoe@zeta.io\tZoë\tzeta.io\r\n"
    (tmp_path / "unicode.txt").write_bytes(text.encode("utf-16"))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email", "First Name", "Number of Employees"])
    sheet.append(["xavier@xl.io", "Xavier", 250])
    book.save(tmp_path / "leads.xlsx")
    for name in ("unicode.txt", "leads.xlsx"):
        result = initialised("import", "leads", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    emails = {lead["email"] for lead in as_json(initialised("leads", "list", "--json"))}
    assert emails == {"zoe@zeta.io", "xavier@xl.io"}


def test_a_placeholder_where_a_value_is_required_names_the_line(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "form.csv"
    path.write_text("Email,First Name\na@x.io,Ann\nN/A,Bob\n")
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 1
    assert "line 3: email: Field required" in result.stderr
    assert as_json(initialised("leads", "list", "--json")) == []  # nothing half-imported


def test_a_binary_file_is_one_clear_line(initialised: Run, tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 1
    assert "photo.csv: a binary file, not text" in result.stderr
    assert "Traceback" not in result.output


def test_a_binary_file_without_nul_says_what_it_holds(initialised: Run, tmp_path: Path) -> None:
    """It said `NUL characters near the start` of a file that held none."""
    path = tmp_path / "capture.csv"
    path.write_bytes(b"email\x01\x02\x03\x04" * 50)
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 1
    said = "capture.csv: a binary file, not text (200 control characters in its first 450"
    assert said in result.stderr and "NUL" not in result.stderr


def test_subdomains_share_one_account_and_free_mail_makes_none(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Email,Company Name\njane@eu.acme-logistics.com,Acme EU\n"
                    "bob@acme-logistics.com,Acme\nann@gmail.com,Acme\n")  # fmt: skip
    assert initialised("import", "leads", str(path)).exit_code == 0
    jane, bob, ann = (
        as_json(initialised("leads", "show", email, "--json"))
        for email in ("jane@eu.acme-logistics.com", "bob@acme-logistics.com", "ann@gmail.com")
    )
    assert jane["account"]["domain"] == bob["account"]["domain"] == "acme-logistics.com"
    assert ann["account"] is None


def test_bad_json_lines_are_each_named_and_every_good_line_imported(
    initialised: Run, tmp_path: Path
) -> None:
    def event(email: str) -> str:
        return json.dumps({"email": email, "type": "track", "name": "Pricing Viewed",
                           "timestamp": "2026-01-05T10:00:00Z"})  # fmt: skip

    path = tmp_path / "ev2.jsonl"
    lines = [event("a@acme.com"), "not json", event("b@acme.com"), event("c@acme.com"),
             '{"email": "d@acme.com", "type": "track", "timestamp": "2026-01-05T10:00:00Z", '
             '"properties": {"x": 1e400}}']  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    refused = initialised("import", "events", str(path))
    assert refused.exit_code == 1
    assert "2 bad event rows; nothing imported" in refused.stderr
    assert "line 2: not valid JSON" in refused.stderr
    assert "line 5: properties.x: 1e400 is not a JSON number" in refused.stderr
    assert as_json(initialised("leads", "list", "--json")) == []

    result = initialised("import", "events", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "imported 3 events from 5 rows" in result.stdout
    assert "skipped line 2: not valid JSON" in result.stderr
    assert "skipped line 5: properties.x: 1e400" in result.stderr
    emails = {lead["email"] for lead in as_json(initialised("leads", "list", "--json"))}
    assert emails == {"a@acme.com", "b@acme.com", "c@acme.com"}


def test_an_internationalized_e_mail_domain_imports_as_the_api_takes_it(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "idn.csv"
    path.write_text("Email,First Name\nana@müller.de,Ana\nbob@müller,Bob\n", encoding="utf-8")
    refused = initialised("import", "leads", str(path))
    assert refused.exit_code == 1
    assert "line 3: email: 'bob@müller' is not an e-mail address" in refused.stderr
    result = initialised("import", "leads", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    lead = as_json(initialised("leads", "show", "ana@müller.de", "--json"))
    assert lead["account"]["domain"] == "müller.de"


def test_a_header_only_file_imports_nothing_and_says_so_plainly(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("Email,First Name\n")
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 0 leads from 0 rows" in result.stdout
    assert "()" not in result.stdout


def test_two_columns_for_one_field_that_disagree_import_nothing(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Email,Email Address,First Name\nann@acme.com,ann@acme.com,Ann\n"
                    "bo@acme.com,bob@acme.com,Bo\n")  # fmt: skip
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 1
    assert "line 3: columns 1 and 2 are both email, and differ" in result.stderr
    assert as_json(initialised("leads", "list", "--json")) == []  # nothing half-imported


def test_a_file_without_rows_says_so(initialised: Run, tmp_path: Path) -> None:
    # Before: an empty export (a wrong filter, a failed download) printed only "imported 0
    # leads from 0 rows", the same as a file whose every lead was known already.
    empty, header = tmp_path / "empty.csv", tmp_path / "header.csv"
    empty.write_text("")
    header.write_text("email,first_name\n")
    for path, why in ((empty, "it is empty"), (header, "only a header or blank lines")):
        result = initialised("import", "leads", str(path))
        assert result.exit_code == 0, result.output
        assert f"{path} holds no rows" in result.stderr and why in result.stderr
        assert result.stdout.strip().splitlines()[-1].startswith("imported 0 leads from 0 rows")


NUL_FILES = {
    "leads": ("email,title,phone\n", "p{i}@acme.com,CEO,1\n", "x@acme.com,CEO,1\x002", "phone"),
    "accounts": ("domain,name,industry\n", "d{i}.com,D,Retail\n", "x.com,X,Re\x00tail", "industry"),
    "events": (
        "email,type,name,timestamp,colour\n",
        "p{i}@acme.com,track,Visit,2026-01-05T10:00:00Z,\n",
        "x@acme.com,track,Visit,2026-01-05T10:00:00Z,r\x00ed",
        "colour",
    ),
}


@pytest.mark.parametrize("kind", sorted(NUL_FILES))
def test_a_nul_in_a_cell_after_the_first_4_kb_is_named_by_line_on_every_engine(
    initialised: Run, tmp_path: Path, kind: str
) -> None:
    """The binary sniff reads the first 4 KB: a NUL after them was imported on SQLite and
    failed the import on PostgreSQL with a traceback or a database error naming nothing."""
    header, row, bad, field = NUL_FILES[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_text(header + "".join(row.format(i=i) for i in range(300)) + bad + "\n")
    result = initialised("import", kind, str(path))
    assert result.exit_code == 1, result.output
    assert f"line 302: {field}: text holds a NUL character (\\u0000)" in result.stderr
    assert "nothing imported" in result.stderr and "Traceback" not in result.output
    assert as_json(initialised("leads", "list", "--json")) == []
    skipped = initialised("import", kind, str(path), "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert f"skipped line 302: {field}: text holds a NUL" in skipped.stderr


def test_a_cell_too_long_is_a_bad_row_that_skip_invalid_gets_past(
    initialised: Run, tmp_path: Path
) -> None:
    """A cell over 128 KB refused the file in the csv module's words (`line 3: field larger
    than field limit (131072)`), with or without --skip-invalid."""
    path = tmp_path / "notes.csv"
    path.write_text(f"email,notes\na@acme.com,short\nb@acme.com,{'x' * 200_000}\n")
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 1, result.output
    said = "line 3: notes: 200,000 characters, more than a cell may hold (131,072)"
    assert said in result.stderr and "notes.csv" in result.stderr
    assert "field limit" not in result.output
    skipped = initialised("import", "leads", str(path), "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert f"skipped {said}" in skipped.stderr
    assert "imported 1 lead from 2 rows" in skipped.stdout


def test_a_date_that_lost_its_format_is_refused_saying_what_it_looks_like(
    initialised: Run, tmp_path: Path
) -> None:
    """46027.5 (a spreadsheet's day number, 2026-01-05 12:00) was read as seconds since
    1970: an event on 1970-01-01. A date written day and month was refused unquoted."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "type", "name", "timestamp"])
    sheet.append(["ann@acme.com", "track", "Demo Requested", 46027.5])
    sheet.append(["bo@acme.com", "track", "Demo Requested", "05/01/2026"])
    sheet.append(["cy@acme.com", "track", "Demo Requested", 1767614400])
    book.save(tmp_path / "events.xlsx")
    (tmp_path / "events.csv").write_text(
        "email,type,name,timestamp\nann@acme.com,track,Demo Requested,46027.5\n"
        "bo@acme.com,track,Demo Requested,05/01/2026\ncy@acme.com,track,Demo Requested,1767614400\n"
    )
    for name in ("events.xlsx", "events.csv"):
        result = initialised("import", "events", str(tmp_path / name))
        assert result.exit_code == 1, result.output
        assert ("line 2: timestamp: '46027.5' looks like a spreadsheet's day number "
                "(2026-01-05 12:00)") in result.stderr  # fmt: skip
        assert "line 3: timestamp: '05/01/2026' is not a date and time" in result.stderr
        assert "write it year first (2026-01-05 or 2026-05-01)" in result.stderr
        assert as_json(initialised("leads", "list", "--json")) == []
    result = initialised("import", "events", str(tmp_path / "events.csv"), "--skip-invalid")
    assert result.exit_code == 0, result.output
    lead = as_json(initialised("leads", "show", "cy@acme.com", "--json"))
    assert [e["at"][:19] for e in lead["events"]] == ["2026-01-05T12:00:00"]


def test_a_workbook_import_names_the_sheets_it_did_not_read(
    initialised: Run, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    sheet.append(["email"])
    sheet.append(["ann@acme.com"])
    book.create_sheet("More leads").append(["email"])
    book.save(tmp_path / "leads.xlsx")
    result = initialised("import", "leads", str(tmp_path / "leads.xlsx"))
    assert result.exit_code == 0, result.output
    said = "leads.xlsx: read as an Excel workbook, its first sheet 'Leads' (1 other sheet not "
    assert said + "read: 'More leads')" in result.stderr


def test_a_true_cell_is_stored_alike_from_a_workbook_and_its_csv(
    initialised: Run, tmp_path: Path
) -> None:
    """Excel's TRUE was stored as the text `True`, the same sheet saved as CSV as `TRUE`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "newsletter"])
    sheet.append(["ann@acme.com", True])
    book.save(tmp_path / "leads.xlsx")
    (tmp_path / "leads.csv").write_text("email,newsletter\nbo@acme.com,TRUE\n")
    for name in ("leads.xlsx", "leads.csv"):
        result = initialised("import", "leads", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    for email in ("ann@acme.com", "bo@acme.com"):
        lead = as_json(initialised("leads", "show", email, "--json"))
        assert lead["attributes"] == {"newsletter": True}, lead["attributes"]


def test_a_file_with_blank_lines_imports_its_rows(initialised: Run, tmp_path: Path) -> None:
    # Before: each empty line (a file ending in several, a gap between rows) was a bad row,
    # "email: Field required", and the whole file was refused for lines holding nothing.
    path = tmp_path / "gaps.csv"
    path.write_text("\nEmail,First Name\r\n\r\nann@acme.com,Ann\r\n\r\nbo@acme.com,Bo\r\n\r\n\r\n")
    result = initialised("import", "leads", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 2 leads from 2 rows" in result.stdout


def _interrupt_at_the_first_insert(
    conn: Any, cursor: Any, statement: str, *args: Any, **kwargs: Any
) -> None:
    if statement.lstrip().upper().startswith("INSERT"):
        raise KeyboardInterrupt  # Ctrl-C while the driver writes


def test_ctrl_c_during_an_import_says_interrupted_and_writes_nothing(
    initialised: Run, tmp_path: Path
) -> None:
    # Before, on SQLite: the interrupted write invalidated the connection, and setting the
    # indexes' bookkeeping aside asked that connection again, so the user who pressed Ctrl-C
    # read "error: database error: PendingRollbackError: Can't reconnect until invalid
    # transaction is rolled back" (exit 1), which also hid any real error that ended a write.
    path = tmp_path / "leads.csv"
    path.write_text("Email,First Name\n" + "".join(f"p{i}@acme.com,P{i}\n" for i in range(50)))
    event.listen(Engine, "before_cursor_execute", _interrupt_at_the_first_insert)
    try:
        result = initialised("import", "leads", str(path))
    finally:
        event.remove(Engine, "before_cursor_execute", _interrupt_at_the_first_insert)
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().splitlines()[-1] == "interrupted"
    assert "database error" not in result.output
    assert as_json(initialised("leads", "list", "--json")) == []
