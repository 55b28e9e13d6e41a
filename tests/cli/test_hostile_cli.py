"""The command line refuses what the API refuses: infinite amounts, deep playbooks; CSV is inert."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Run

FORMULAS = {"source": "+cmd|' /C calc'!A0", "medium": "@SUM(1+1)",
            "name": '=HYPERLINK("http://evil.example","x")'}  # fmt: skip


def import_events(run: Run, tmp_path: Path, events: list[dict[str, object]]) -> None:
    path = tmp_path / "events.jsonl"
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    path.write_text("".join(json.dumps({"timestamp": when, **e}) + "\n" for e in events))
    result = run("import", "events", str(path))
    assert result.exit_code == 0, result.output


def test_report_csv_neutralises_formulas(initialised: Run, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    with leads.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["email", "source", "medium", "campaign"])
        writer.writerow(["f@acme.com", FORMULAS["source"], FORMULAS["medium"], FORMULAS["name"]])
    imported = initialised("import", "leads", str(leads))
    assert imported.exit_code == 0, imported.output
    for by, formula in (("source", FORMULAS["source"]), ("medium", FORMULAS["medium"]),
                        ("campaign", FORMULAS["name"])):  # fmt: skip
        result = initialised("report", "conversion", "--by", by, "--csv")
        assert result.exit_code == 0, result.output
        cells = [row[by] for row in csv.DictReader(io.StringIO(result.stdout))]
        assert "'" + formula in cells, (by, cells)
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


@pytest.mark.parametrize("amount", ["inf", "1e400", "nan", "1e13"])
def test_close_won_refuses_an_infinite_or_absurd_amount(
    initialised: Run, tmp_path: Path, amount: str
) -> None:
    demo = {"email": "deal@acme.com", "type": "track", "name": "Demo Requested"}
    import_events(initialised, tmp_path, [demo])
    assert initialised("leads", "act", "deal@acme.com", "convert").exit_code == 0
    result = initialised("leads", "act", "deal@acme.com", "close_won", "--amount", amount)
    assert result.exit_code != 0
    assert "amount" in result.output and "Traceback" not in result.output
    assert initialised("report", "attribution", "--json").exit_code == 0


NINES = "9" * 400  # float() makes it inf: the refusal said "inf", not what was typed


def test_an_amount_of_400_nines_is_refused_naming_what_was_typed(
    initialised: Run, tmp_path: Path
) -> None:
    demo = {"email": "deal@acme.com", "type": "track", "name": "Demo Requested"}
    import_events(initialised, tmp_path, [demo])
    assert initialised("leads", "act", "deal@acme.com", "convert").exit_code == 0
    for args, option in (
        (("leads", "act", "deal@acme.com", "close_won", "--amount", NINES), "--amount"),
        (("plan", "--goal", NINES, "--deal-size", "10"), "--goal"),
        (("goals", "add", "Q4", "--period", "2026-Q4", "--revenue", NINES), "--revenue"),
    ):
        result = initialised(*args)
        shown = " ".join(result.output.split())
        assert result.exit_code != 0 and "Traceback" not in shown, (args, shown)
        assert f"{option}: '9999999999999999…99999999' (400 characters)" in shown, (args, shown)
        assert "inf" not in shown, (args, shown)


def test_a_playbook_nested_3000_deep_is_a_validation_error(
    initialised: Run, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("scoring: " + "[" * 3000 + "]" * 3000 + "\n")
    for command in ("validate", "apply"):
        result = initialised("playbook", command, str(deep))
        assert result.exit_code != 0
        assert "nested too deeply" in result.output, result.output


BIG = "99999999999999999999999"  # beyond any 64-bit integer
OUT_OF_BOUNDS = [
    (("webhooks", "disable", BIG), "endpoint_id"),
    (("goals", "delete", BIG), "goal_id"),
    (("keys", "revoke", BIG), "key_id"),
    (("webhooks", "log", "--limit", BIG), "--limit"),
    (("leads", "act", "a@acme.com", "recycle", "--recycle-days", "3000000"), "--recycle-days"),
    (("plan", "--goal", "1000", "--deal-size", "10", "--window", "3000000"), "--window"),
    (("report", "data_quality", "--stale-days", "3000000"), "--stale-days"),
    (("report", "bottlenecks", "--history", "30000"), "--history"),
    (("report", "attribution", "--half-life-days", "inf"), "--half-life-days"),
    (("audit", "--since", "3000000"), "--since"),
]


def test_numbers_beyond_what_the_api_takes_are_refused_naming_the_option(
    initialised: Run,
) -> None:
    """Each was an OverflowError or ValueError traceback (a day count back before the year 1,
    an id no database integer holds); the API bounds the same values."""
    for args, option in OUT_OF_BOUNDS:
        result = initialised(*args)
        shown = " ".join(result.output.replace("│", " ").split())
        assert result.exit_code == 2, (args, result.output)
        assert f"Invalid value for '{option}'" in shown, (args, shown)
        assert isinstance(result.exception, SystemExit), (args, result.exception)
