"""What people and tracking calls send is printed to a terminal as text: never read as Rich
markup (a `[/]` in a job title made `leads list` fail), and never as the terminal's own control
sequences (an escape in a trait could clear an admin's screen or recolour what follows)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import update

from leadflow.cli import context
from leadflow.cli.terminal import TextConsole
from leadflow.models import Lead
from leadflow.models.db import make_engine
from tests.cli.conftest import Run

MARKUP = "[/] [bold]VP[/x] [link=https://evil.example]Ops[/link]"
CONTROLS = "VP\x1b[2J\x1b]52;c;SGk=\x07 Ops\x9b31m"


def _import(run: Run, path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = run("import", "leads", str(path))
    assert imported.exit_code == 0, imported.output


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal wide enough that no table cell here is cut short."""
    monkeypatch.setattr(context.console, "width", 400)


def _flat(text: str) -> str:
    """The text without white space and table borders: a table wraps a long cell."""
    return re.sub(r"[\s│┃]", "", text)


def test_leads_list_prints_brackets_as_written(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "leads.csv",
            [{"Email": "mo@acme.io", "First Name": "[/]", "Job Title": MARKUP}])  # fmt: skip
    listed = initialised("leads", "list")
    assert listed.exit_code == 0, listed.output
    assert _flat(MARKUP) in _flat(listed.stdout)


def test_control_characters_never_reach_the_terminal(
    initialised: Run, tmp_path: Path, database_url: str
) -> None:
    person = {"Email": "mo@acme.io", "First Name": "Mo\x1b[31m", "Job Title": CONTROLS}
    _import(initialised, tmp_path / "leads.csv", [person])
    # A name is stored on one line now (core.single_line); one stored before that, or by a
    # path that keeps it as sent, must still print as text: put the title back as it came.
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(Lead).values(title=CONTROLS, first_name="Mo\x1b[31m"))
    engine.dispose()
    for args in (("leads", "list"), ("leads", "show", "mo@acme.io")):
        shown = initialised(*args)
        assert shown.exit_code == 0, shown.output
        assert "\x1b" not in shown.stdout and "\x9b" not in shown.stdout, args
        # Shown as escapes, so the odd value can be seen and cleaned.
        assert "VP\\x1b[2J\\x1b]52;c;SGk=\\x07Ops\\x9b31m" in _flat(shown.stdout), args


def test_a_report_table_prints_a_campaign_as_written(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "leads.csv",
            [{"Email": "mo@acme.io", "Campaign": "[/]spring\x1b[2J"}])  # fmt: skip
    table = initialised("report", "conversion", "--by", "campaign")
    assert table.exit_code == 0, table.output
    assert "[/]spring\\x1b[2J" in _flat(table.stdout)


def test_an_error_naming_a_value_with_brackets_prints_it(initialised: Run, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Email,Job Title\n[/]@\x1b[2J,VP\n")
    refused = initialised("import", "leads", str(path))
    assert refused.exit_code not in (0, None)
    assert isinstance(refused.exception, SystemExit), repr(refused.exception)
    assert "[/]@" in refused.output and "\x1b" not in refused.output


def test_a_table_too_wide_for_the_terminal_keeps_its_keys_whole() -> None:
    """80 columns (a pipe): the key column is printed whole and the other columns kept,
    the lines wider than the terminal; the console's width is as before afterwards."""
    from rich.table import Table

    from leadflow.cli.terminal import key_column, print_whole

    out = io.StringIO()
    console = TextConsole(file=out, width=80)
    key = "brenda.mcallister-whitfield@northwind-logistics-international.example"
    table = Table(key_column("email"), "title", "stage")
    table.add_row(key, "Vice President of Global Operations", "lead")
    print_whole(console, table)
    assert key in out.getvalue() and "stage" in out.getvalue() and "lead" in out.getvalue()
    assert "Vice President of Global Operations" in out.getvalue()  # one line, nothing cut
    assert console.width == 80
