"""`leadflow leads show` as text: data printed as written, figures as people read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.lead import Lead
from leadflow.services import ingest, playbooks
from tests.cli.conftest import Run, as_json


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


def test_show_tells_who_owns_the_lead_its_sla_and_why_it_was_routed(
    initialised: Run, tmp_path: Path
) -> None:
    """`leads show --json` has the owner and the hand-off (rep, team, reason, deadline, SLA
    status); the text said none of it, so whoever looked could not tell who has the lead."""
    added = initialised("reps", "add", "ana@flowline.io", "--name", "Ana", "--team", "inbound",
                        "--hours", "mon-sun 00:00-24:00")  # fmt: skip
    assert added.exit_code == 0, added.output
    events = tmp_path / "demo.jsonl"
    now = datetime.now(UTC).isoformat()
    events.write_text(
        f'{{"email": "kai@litware.io", "type": "track", "name": "Demo Requested", '
        f'"timestamp": "{now}"}}\n'
    )
    assert initialised("import", "events", str(events)).exit_code == 0
    data = as_json(initialised("leads", "show", "kai@litware.io", "--json"))
    handoff = data["assignment"]
    shown = initialised("leads", "show", "kai@litware.io")
    assert shown.exit_code == 0, shown.output
    due = handoff["sla_due_at"][:16].replace("T", " ")
    assert "owner: Ana <ana@flowline.io>" in shown.stdout, shown.stdout
    assert f"hand-off: team inbound, SLA open, due {due} UTC" in shown.stdout, shown.stdout
    assert "routed: " in shown.stdout and "Ana is next" in shown.stdout
    unowned = tmp_path / "one.csv"
    unowned.write_text("Email,Job Title\nmo@acme.io,VP Operations\n")
    assert initialised("import", "leads", str(unowned)).exit_code == 0
    plain = initialised("leads", "show", "mo@acme.io")
    assert "owner: nobody" in plain.stdout and "hand-off" not in plain.stdout


def test_a_recycled_leads_reengage_date_is_shown_and_a_past_one_refused(
    initialised: Run, tmp_path: Path
) -> None:
    path = tmp_path / "one.csv"
    path.write_text("Email,Job Title\nmo@acme.io,VP Operations\n")
    assert initialised("import", "leads", str(path)).exit_code == 0
    past = initialised("leads", "act", "mo@acme.io", "recycle", "--reason", "no budget",
                       "--reengage-on", "2020-01-31")  # fmt: skip
    assert past.exit_code != 0
    assert "reengage_on: 2020-01-31 is in the past" in past.output
    assert "Traceback" not in past.output
    later = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    recycled = initialised("leads", "act", "mo@acme.io", "recycle", "--reason", "no budget",
                           "--reengage-on", later)  # fmt: skip
    assert recycled.exit_code == 0, recycled.output
    shown = initialised("leads", "show", "mo@acme.io")
    assert f"re-engage on {later}" in shown.stdout
    data = as_json(initialised("leads", "show", "mo@acme.io", "--json"))
    assert data["recycle_until"].startswith(later)


def test_a_lead_known_only_by_a_user_id_is_shown_without_an_e_mail(
    initialised: Run, database_url: str
) -> None:
    """A site's identify names its user by a database id: the lead has no e-mail yet, and
    `leads show ID` prints it as `leads list` does, not a traceback."""
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session, session.begin():
        now = datetime.now(UTC)
        messages, rejected = ingest.parse_all(
            [{"type": "identify", "userId": "user-42", "traits": {"title": "VP Operations"}}], now
        )
        assert not rejected
        ingest.ingest(session, playbooks.active_playbook(session), messages, source="t", now=now)
        lead_id = session.scalars(select(Lead.id).where(Lead.email.is_(None))).one()
    engine.dispose()
    shown = initialised("leads", "show", str(lead_id))
    assert shown.exit_code == 0, shown.output
    assert "Traceback" not in shown.output
    assert "(anonymous)" in shown.stdout and "VP Operations" in shown.stdout
    assert "<" not in shown.stdout.splitlines()[0]  # no e-mail to put in brackets
