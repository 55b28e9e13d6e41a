"""`leadflow leads show` as text: data printed as written, figures as people read them."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run


def test_show_prints_data_as_written_with_touches_and_notes(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "one.csv"
    path.write_text("Email,First Name,Job Title\nmo@acme.io,[bold]Mo[/],[eot] VP Operations\n")
    assert initialised("import", "leads", str(path)).exit_code == 0
    assert initialised("leads", "touch", "mo@acme.io", "--channel", "call", "--text",
                       "Asked about [SSO]", "--objection", "price").exit_code == 0  # fmt: skip
    assert initialised("leads", "note", "mo@acme.io", "Budget opens in Q3").exit_code == 0
    shown = initialised("leads", "show", "mo@acme.io")
    assert shown.exit_code == 0, shown.output
    assert "[bold]Mo[/]" in shown.stdout and "[eot] VP Operations" in shown.stdout
    assert "call — Asked about [SSO] — objections: price" in shown.stdout
    assert "note: Budget opens in Q3" in shown.stdout
