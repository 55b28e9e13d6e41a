"""`leadflow report` and `leadflow plan` from the command line, on both engines."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.conftest import Run, as_json


def some_leads(run: Run, tmp_path: Path) -> None:
    """Three leads this week: one demo request (SQL), two page views."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    lines = [
        {"email": "ann@unlisted-co.io", "type": "track", "name": "Demo Requested"},
        {"email": "bo@unlisted-co.io", "type": "page", "properties": {"path": "/pricing"}},
        {"email": "cy@unlisted-co.io", "type": "page", "properties": {"path": "/blog"}},
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({**e, "timestamp": now.isoformat()}) + "\n"
                              for e in lines))  # fmt: skip
    assert run("import", "events", str(events)).exit_code == 0


def test_report_funnel_json_and_conversion_csv(initialised: Run, tmp_path: Path) -> None:
    some_leads(initialised, tmp_path)
    funnel = as_json(initialised("report", "funnel", "--json"))
    reached = {row["stage"]: row["reached"] for row in funnel["rows"]}
    assert (reached["lead"], reached["mql"], reached["sql"]) == (3, 1, 1)
    exported = initialised("report", "conversion", "--by", "persona", "--csv")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert sum(int(r["lead"]) for r in rows) == 3 and "lead_to_customer" in rows[0]
    table = initialised("report", "speed")
    assert table.exit_code == 0 and "Speed to lead" in table.stdout


def test_report_refuses_unknown_names_and_periods(initialised: Run) -> None:
    unknown = initialised("report", "funel")
    assert unknown.exit_code == 1 and "unknown report 'funel'" in unknown.stderr
    assert "funnel" in unknown.stderr and "digest" in unknown.stderr  # every name it takes
    period = initialised("report", "funnel", "--period", "2026-13")
    assert period.exit_code == 1 and "month 13 does not exist" in period.stderr


def test_report_refuses_a_cohort_bound_outside_the_report_years(initialised: Run) -> None:
    """--since 9999-12-31 was a ValueError traceback: the year 10000 is out of range."""
    for name, option, day in [("funnel", "--since", "9999-12-31"),
                              ("bottlenecks", "--since", "0001-01-01"),
                              ("data_quality", "--until", "9999-12-31")]:  # fmt: skip
        result = initialised("report", name, option, day)
        assert result.exit_code == 1, result.output
        year = int(day[:4])
        assert f"{option[2:]}: year {year} is outside 1900-9998" in result.stderr
        assert "Traceback" not in result.output


def test_report_cracks_says_how_many_it_shows(initialised: Run, tmp_path: Path) -> None:
    some_leads(initialised, tmp_path)
    table = initialised("report", "cracks")
    assert table.exit_code == 0 and "showing 1 of 1" in table.stdout, table.output
    none = initialised("report", "cracks", "--limit", "0")
    assert none.exit_code == 0 and "showing 0 of 1" in none.stdout, none.output
    page = as_json(initialised("report", "cracks", "--limit", "5", "--offset", "1", "--json"))
    assert (page["rows"], page["total"], page["offset"], page["limit"]) == ([], 1, 1, 5)
    for args in (["--limit", "-1"], ["--limit", "10001"], ["--limit", "ten"], ["--offset", "-2"]):
        bad = initialised("report", "cracks", *args)
        assert bad.exit_code == 2 and args[0] in bad.output, bad.output


def test_plan_json_and_commit_the_mqls(initialised: Run, tmp_path: Path) -> None:
    some_leads(initialised, tmp_path)
    rates = ["--rate", "visit=0.02", "--rate", "lead=0.5", "--rate", "mql=0.4",
             "--rate", "sql=0.25", "--rate", "opportunity=0.2"]  # fmt: skip
    args = ["plan", "--goal", "1000000", "--deal-size", "10000", "--period", "month", *rates]
    stages = as_json(initialised(*args, "--json"))
    assert [s["stage"] for s in stages] == ["visit", "lead", "mql", "sql", "opportunity",
                                            "customer"]  # fmt: skip
    required = {s["stage"]: s["required"] for s in stages}
    assert required["sql"] == 20 * required["customer"] == 2000
    actual = {s["stage"]: s["actual"] for s in stages}
    assert (actual["lead"], actual["sql"], actual["customer"]) == (3, 1, 0)
    assert stages[2]["rate"] == 0.4
    committed = initialised(*args, "--commit-mqls")
    assert committed.exit_code == 0, committed.output
    assert "commitment is now 5000 a month" in committed.stdout
    assert as_json(initialised("sla", "--json"))["marketing"]["commitment"] == 5000
    measured = initialised("plan", "--goal", "1000", "--deal-size", "100")
    assert measured.exit_code == 1 and "no measured rate for" in measured.stderr
    bad = initialised("plan", "--goal", "1000", "--deal-size", "100", "--rate", "mql=40")
    assert bad.exit_code == 1 and "--rate 'mql=40'" in bad.stderr


def test_plan_measures_no_visit_rate_over_one(initialised: Run, tmp_path: Path) -> None:
    """Three leads, two of them seen on the site: 3 leads from 2 visitors was taken as a
    150% visit-to-lead rate, so the plan needed fewer visits than leads and one more point
    of it was worth negative revenue."""
    some_leads(initialised, tmp_path)
    rates = ["--rate", "lead=0.5", "--rate", "mql=0.4", "--rate", "sql=0.25",
             "--rate", "opportunity=0.2"]  # fmt: skip
    args = ["plan", "--goal", "1000000", "--deal-size", "10000", *rates]
    refused = initialised(*args)
    assert refused.exit_code == 1, refused.output
    assert (
        "no measured rate for visit in the last 180 days: 3 leads came from 2 "
        "visitors with a page view, not a share"
    ) in refused.stderr, refused.stderr
    assert "give --rate visit=R" in refused.stderr
    given = as_json(initialised(*args, "--rate", "visit=0.02", "--json"))
    assert given[0]["stage"] == "visit" and given[0]["required"] == 500_000


def test_goals_channels_and_the_digest(initialised: Run, tmp_path: Path) -> None:
    some_leads(initialised, tmp_path)
    added = initialised("goals", "add", "Leads to SQL", "--period", "2026",
                        "--conversion", "lead:sql", "--rate", "0.2")  # fmt: skip
    assert added.exit_code == 0 and "added goal 1" in added.stdout
    [goal] = as_json(initialised("goals", "list", "--json"))
    assert goal["kind"] == "conversion" and goal["target"] == 0.2
    wrong = initialised("goals", "add", "x", "--period", "2026", "--revenue", "-5")
    assert wrong.exit_code == 1 and "must be positive" in wrong.stderr
    channel = initialised("channels", "add", "digest", "json://127.0.0.1:9/x",
                          "--schedule", "mon 08:30", "--tz", "Europe/Berlin")  # fmt: skip
    assert channel.exit_code == 0 and "next digest" in channel.stdout
    digest = initialised("report", "digest", "--send")
    assert digest.exit_code == 0, digest.output
    assert "how far they got: lead 3" in digest.stdout  # the month's cohort, labelled
    assert "queued to 1 digest channels" in digest.stdout
    data = as_json(initialised("report", "digest", "--json"))
    assert data["funnel"]["sql"] == 1
