"""`leadflow reps`, `leadflow webhooks` and sales' actions from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadflow.models.db import make_engine
from leadflow.models.outbox import OutboxMessage
from tests.cli.conftest import Run, as_json

ALWAYS = ["--team", "inbound", "--hours", "mon-sun 00:00-24:00"]


def demo_request(run: Run, tmp_path: Path, email: str) -> dict[str, object]:
    """Import a demo request from `email` and return the lead as `leads show --json` gives it."""
    events = tmp_path / f"{email}.jsonl"
    now = datetime.now(UTC).isoformat()
    event = {"email": email, "type": "track", "name": "Demo Requested", "timestamp": now}
    events.write_text(json.dumps(event) + "\n")
    imported = run("import", "events", str(events))
    assert imported.exit_code == 0, imported.output
    return as_json(run("leads", "show", email, "--json"))


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


def test_listed_rep_e_mails_and_alert_ids_are_never_cut_short(
    initialised: Run, tmp_path: Path, database_url: str
) -> None:
    """`reps update` takes the e-mail `reps list` shows, `webhooks replay` the alert id
    `webhooks log` shows: an 80-column terminal cut both (`ana@acme…`, `alert_2206d09b…`)."""
    email = "anastasia.konstantinopoulou@flowline-enterprise-sales.example"
    added = initialised("reps", "add", email, "--name", "Anastasia", *ALWAYS)
    assert added.exit_code == 0, added.output
    listed = initialised("reps", "list")
    assert listed.exit_code == 0 and email in listed.stdout, listed.stdout
    assert initialised("webhooks", "add", "https://hooks.example.com/leadflow").exit_code == 0
    demo_request(initialised, tmp_path, "kai@litware.io")
    log = initialised("webhooks", "log")
    assert log.exit_code == 0, log.output
    engine = make_engine(database_url)
    with engine.connect() as connection:
        alerts = set(connection.scalars(select(OutboxMessage.alert_id)))
    engine.dispose()
    assert alerts and all(alert in log.stdout for alert in alerts), log.stdout


def test_reps_add_and_update_refuse_what_the_api_refuses(initialised: Run) -> None:
    cases = [
        (["notanemail", "--name", "Ana", "--team", "enterprise"],
         "email: 'notanemail' is not an e-mail address"),
        (["ana@acme.com", "--name", "", "--team", "sales"], "name: String should have at least 1"),
        (["ana@acme.com", "--name", "Ana", "--team", " "], "team: String should have at least 1"),
        (["ana@acme.com", "--name", "Ana", "--team", "t", "--manager", "boss"],
         "manager_email: 'boss' is not an e-mail address"),
        (["ana@acme.com", "--name", "Ana", "--team", "t", "--capacity", "100000"],
         "capacity: Input should be less than or equal to 10000"),
    ]  # fmt: skip
    for args, reason in cases:
        refused = initialised("reps", "add", *args)
        assert refused.exit_code == 1, args
        assert reason in refused.stderr, refused.stderr
        assert "Traceback" not in refused.output
    assert "ana@acme.com" not in initialised("reps", "list").stdout  # nothing stored
    assert initialised("reps", "add", "ana@acme.com", "--name", "Ana", "--team", "t").exit_code == 0
    empty = initialised("reps", "update", "ana@acme.com", "--team", "")
    assert empty.exit_code == 1 and "team: String should have at least 1" in empty.stderr
    boss = initialised("reps", "update", "ana@acme.com", "--manager", "boss")
    assert boss.exit_code == 1 and "manager_email: 'boss' is not an e-mail address" in boss.stderr


def test_sla_shows_the_median_first_touch_rounded(
    initialised: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadflow.services import sla

    report = sla.month_report

    def with_median(*args: Any, **kwargs: Any) -> dict[str, Any]:
        found = report(*args, **kwargs)
        found["sales"]["median_minutes_to_first_touch"] = 7.020635416666667
        return found

    monkeypatch.setattr(sla, "month_report", with_median)
    result = initialised("sla")
    assert result.exit_code == 0, result.output
    assert "median first touch 7.0 min" in result.stdout


def test_sla_counts_one_of_a_thing_in_the_singular(
    initialised: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It printed "1 MQLs" and "1 hand-offs"."""
    from leadflow.services import sla

    report = sla.month_report

    def one_each(*args: Any, **kwargs: Any) -> dict[str, Any]:
        found = report(*args, **kwargs)
        found["marketing"]["mqls"], found["sales"]["handoffs"] = 1, 1
        return found

    monkeypatch.setattr(sla, "month_report", one_each)
    result = initialised("sla")
    assert result.exit_code == 0, result.output
    assert "marketing 1 MQL of 200" in result.stdout and "sales: 1 hand-off," in result.stdout


def test_sales_actions_touches_and_notes(initialised: Run, tmp_path: object) -> None:
    from pathlib import Path

    leads_csv = Path(str(tmp_path)) / "leads.csv"
    leads_csv.write_text("Email,Job Title\nzoe@acme.io,VP Operations\n")
    assert initialised("import", "leads", str(leads_csv)).exit_code == 0
    assert initialised("reps", "add", "ana@flowline.io", "--name", "Ana", *ALWAYS).exit_code == 0
    accepted = initialised(
        "leads", "act", "zoe@acme.io", "accept", "--rep", "ana@flowline.io", "--actor", "ana"
    )
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


def test_a_note_touch_or_reason_longer_than_the_api_takes_is_refused_not_cut(
    initialised: Run, tmp_path: Path
) -> None:
    demo_request(initialised, tmp_path, "long@unlisted-co.io")
    note = initialised("leads", "note", "long@unlisted-co.io", "x" * 5001)
    assert note.exit_code == 1 and "text: at most 5,000 characters (5,001 given)" in note.stderr
    touch = initialised("leads", "touch", "long@unlisted-co.io", "--text", "x" * 5001)
    assert touch.exit_code == 1 and "text: at most 5,000 characters" in touch.stderr
    act = initialised("leads", "act", "long@unlisted-co.io", "disqualify", "--reason", "x" * 1001)
    assert act.exit_code == 1 and "reason: at most 1,000 characters (1,001 given)" in act.stderr
    shown = as_json(initialised("leads", "show", "long@unlisted-co.io", "--json"))
    assert shown["stage"] == "sql"
    assert not {"Note Added", "Sales Touch"} & {e["name"] for e in shown["events"]}
    kept = initialised("leads", "note", "long@unlisted-co.io", "x" * 5000)  # at the bound
    assert kept.exit_code == 0, kept.output


def test_a_touch_after_the_first_tells_the_sla_the_lead_has(
    initialised: Run, tmp_path: Path
) -> None:
    """Accepting a routed lead is its first touch (SLA met); a call logged after it said
    `SLA: no hand-off`, where `leads show` says the hand-off's SLA was met."""
    assert initialised("reps", "add", "ana@flowline.io", "--name", "Ana", *ALWAYS).exit_code == 0
    lead = demo_request(initialised, tmp_path, "kai@litware.io")
    assert lead["owner"] == "ana@flowline.io", lead
    accepted = initialised("leads", "act", "kai@litware.io", "accept", "--actor", "ana")
    assert accepted.exit_code == 0, accepted.output
    touched = initialised("leads", "touch", "kai@litware.io", "--channel", "call")
    assert touched.exit_code == 0, touched.output
    assert "logged a call with kai@litware.io; SLA: met" in touched.stdout
    shown = as_json(initialised("leads", "show", "kai@litware.io", "--json"))
    assert shown["assignment"]["sla_status"] == "met"
    assert initialised("leads", "touch", "zed@unknown.io").exit_code == 1  # no such lead


def test_a_rep_out_of_office_gets_no_leads_until_back(initialised: Run, tmp_path: Path) -> None:
    for email, name in (("ana@flowline.io", "Ana"), ("ben@flowline.io", "Ben")):
        assert initialised("reps", "add", email, "--name", name, *ALWAYS).exit_code == 0
    away = initialised("reps", "update", "ben@flowline.io", "--out-of-office-until", "2099-01-01")
    assert away.exit_code == 0, away.output
    assert "out of office until 2099-01-01" in away.stdout
    first = demo_request(initialised, tmp_path, "one@unlisted-co.io")
    second = demo_request(initialised, tmp_path, "two@unlisted-co.io")
    assert [lead["assignment"]["rep"]["name"] for lead in (first, second)] == ["Ana", "Ana"]
    back = initialised("reps", "update", "ben@flowline.io", "--back", "--capacity", "5")
    assert back.exit_code == 0 and "in office" in back.stdout
    third = demo_request(initialised, tmp_path, "three@unlisted-co.io")
    assert third["assignment"]["rep"]["name"] == "Ben"  # the round-robin evens the load
    assert "inbound" in third["assignment"]["reason"]
    missing = initialised("reps", "update", "nobody@flowline.io", "--back")
    assert missing.exit_code == 1 and "no rep with e-mail" in missing.stderr
    # A day without a time is the start of that day where the rep works, not in UTC.
    west = initialised("reps", "update", "ana@flowline.io", "--tz", "America/Los_Angeles",
                       "--out-of-office-until", "2099-01-01")  # fmt: skip
    assert west.exit_code == 0, west.output
    assert "out of office until 2099-01-01 00:00 America/Los_Angeles" in west.stdout
    assert "(2099-01-01 08:00 UTC)" in west.stdout
    bad_zone = initialised("reps", "update", "ben@flowline.io", "--tz", "Mars/Olympus")
    assert bad_zone.exit_code == 1 and "working hours" in bad_zone.stderr


def test_recycle_with_a_reengage_date_and_convert_with_an_expected_close(
    initialised: Run, tmp_path: Path
) -> None:
    demo_request(initialised, tmp_path, "kim@unlisted-co.io")
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    recycled = initialised(
        "leads", "act", "kim@unlisted-co.io", "recycle", "--reason", "no budget",
        "--reengage-on", later,
    )  # fmt: skip
    assert recycled.exit_code == 0, recycled.output
    shown = demo_request(initialised, tmp_path, "kim@unlisted-co.io")
    assert shown["stage"] == "nurture" and shown["recycles"] == 1  # not before the date
    bad = initialised("leads", "act", "kim@unlisted-co.io", "recycle", "--reengage-on", "soon")
    assert bad.exit_code == 2 and "--reengage-on" in bad.stderr
    demo_request(initialised, tmp_path, "lou@unlisted-co.io")
    converted = initialised(
        "leads", "act", "lou@unlisted-co.io", "convert", "--amount", "24000",
        "--expected-close", "2027-03-31",
    )  # fmt: skip
    assert converted.exit_code == 0 and "sql -> opportunity" in converted.stdout
    attributes = as_json(initialised("leads", "show", "lou@unlisted-co.io", "--json"))["attributes"]
    assert (attributes["opportunity_amount"], attributes["expected_close"]) == (24000, "2027-03-31")


def test_accepting_a_lead_nobody_owns_names_the_rep_who_takes_it(
    initialised: Run, tmp_path: Path
) -> None:
    """As through the API: the CLI is not a rep, so an unowned lead is accepted by an active
    rep named with --rep (or an --actor who is one), who becomes its owner."""
    leads_csv = tmp_path / "leads.csv"
    leads_csv.write_text("Email,Job Title\nzoe@acme.io,VP Operations\nyul@acme.io,CTO\n")
    assert initialised("import", "leads", str(leads_csv)).exit_code == 0
    assert initialised("reps", "add", "ana@flowline.io", "--name", "Ana", *ALWAYS).exit_code == 0
    nobody = initialised("leads", "act", "zoe@acme.io", "accept", "--actor", "ops")
    assert nobody.exit_code == 1 and "--rep" in nobody.stderr, nobody.output
    unknown = initialised("leads", "act", "zoe@acme.io", "accept", "--rep", "who@x.io")
    assert unknown.exit_code == 1 and "who@x.io is not an active rep" in unknown.stderr
    shown = as_json(initialised("leads", "show", "zoe@acme.io", "--json"))
    assert (shown["stage"], shown["owner"]) == ("lead", None)  # refused: nothing written
    named = initialised("leads", "act", "zoe@acme.io", "accept", "--rep", "ana@flowline.io")
    assert named.exit_code == 0, named.output
    shown = as_json(initialised("leads", "show", "zoe@acme.io", "--json"))
    assert (shown["stage"], shown["owner"]) == ("sql", "ana@flowline.io")
    as_rep = initialised("leads", "act", "yul@acme.io", "accept", "--actor", "ana@flowline.io")
    assert as_rep.exit_code == 0, as_rep.output
    assert as_json(initialised("leads", "show", "yul@acme.io", "--json"))["owner"] == (
        "ana@flowline.io"
    )


def test_a_rep_on_a_team_no_routing_rule_names_is_added_with_a_note(initialised: Run) -> None:
    # Before: a typo in --team was taken without a word, and the rep then got no lead from the
    # routing rules, which send leads to teams by name.
    typo = initialised("reps", "add", "ana@flowline.io", "--name", "Ana", "--team", "enterprsie")
    assert typo.exit_code == 0, typo.output
    assert "no routing rule of the active playbook sends leads to team 'enterprsie'" in typo.stdout
    assert "enterprise" in typo.stdout and "inbound" in typo.stdout  # the teams it does name
    moved = initialised("reps", "update", "ana@flowline.io", "--team", "nowhere")
    assert moved.exit_code == 0 and "team 'nowhere'" in moved.stdout
    fine = initialised("reps", "add", "bo@flowline.io", "--name", "Bo", "--team", "enterprise")
    assert fine.exit_code == 0 and "routing rule" not in fine.stdout
