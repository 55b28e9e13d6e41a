"""`leadflow reps`, `leadflow webhooks` and sales' actions from the command line."""

from __future__ import annotations

from tests.cli.conftest import Run, as_json


def test_webhooks_add_prints_the_signing_secret_alone_on_the_last_line(initialised: Run) -> None:
    result = initialised("webhooks", "add", "https://hooks.example.com/leadflow")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and " " not in secret
    listed = initialised("webhooks", "list")
    assert "hooks.example.com" in listed.stdout and secret not in listed.stdout
    narrow = initialised("webhooks", "add", "http://127.0.0.1:9/x", "--events", "sla.breached")
    assert narrow.exit_code == 0 and "for sla.breached" in narrow.stdout


def test_bad_webhook_urls_and_event_types_are_refused(initialised: Run) -> None:
    ftp = initialised("webhooks", "add", "ftp://example.com/x")
    assert ftp.exit_code == 1 and "http:// or https://" in ftp.stderr
    typo = initialised("webhooks", "add", "https://x.io", "--events", "lead.salesready")
    assert typo.exit_code == 1 and "unknown event types ['lead.salesready']" in typo.stderr


def test_reps_are_added_with_their_hours_and_bad_channels_refused(initialised: Run) -> None:
    added = initialised(
        "reps", "add", "Ana@Flowline.io", "--name", "Ana", "--team", "enterprise",
        "--hours", "mon-thu 08:00-16:00", "--tz", "Europe/Berlin",
        "--channel", "json://localhost:9/alerts",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Ana <ana@flowline.io> on team enterprise" in added.stdout
    listed = initialised("reps", "list")
    assert listed.exit_code == 0 and "Ana" in listed.stdout
    bad = initialised("reps", "add", "b@x.io", "--name", "B", "--team", "t", "--channel", "nope")
    assert bad.exit_code == 1 and "not an Apprise URL" in bad.stderr
    hours = initialised("reps", "add", "c@x.io", "--name", "C", "--team", "t", "--hours", "9-5")
    assert hours.exit_code == 1 and "working hours" in hours.stderr
    again = initialised("reps", "add", "ana@flowline.io", "--name", "A", "--team", "t")
    assert again.exit_code == 1 and "exists" in again.stderr


def test_sales_actions_touches_and_notes(initialised: Run, tmp_path: object) -> None:
    from pathlib import Path

    leads_csv = Path(str(tmp_path)) / "leads.csv"
    leads_csv.write_text("Email,Job Title\nzoe@acme.io,VP Operations\n")
    assert initialised("import", "leads", str(leads_csv)).exit_code == 0
    accepted = initialised("leads", "act", "zoe@acme.io", "accept", "--actor", "ana")
    assert accepted.exit_code == 0, accepted.output
    assert "lead -> sql" in accepted.stdout
    touched = initialised(
        "leads", "touch", "zoe@acme.io", "--channel", "call", "--question", "SSO?",
        "--objection", "price", "--actor", "ana",
    )  # fmt: skip
    assert touched.exit_code == 0 and "logged a call" in touched.stdout
    assert initialised("leads", "note", "zoe@acme.io", "Budget in Q3").exit_code == 0
    wrong = initialised("leads", "act", "zoe@acme.io", "close_won")
    assert wrong.exit_code == 1 and "cannot close_won a lead in stage sql" in wrong.stderr
    shown = as_json(initialised("leads", "show", "zoe@acme.io", "--json"))
    names = [e["name"] for e in shown["events"]]
    assert names[:2] == ["Note Added", "Sales Touch"]  # newest first
    touch = shown["events"][1]["properties"]
    assert (touch["questions"], touch["objections"], touch["actor"]) == (["SSO?"], ["price"], "ana")
    assert shown["stage_history"][-1]["actor"] == "ana"
