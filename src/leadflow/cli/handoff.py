"""`leadflow reps ...`, `leadflow webhooks ...` and `leadflow worker`."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from leadflow.cli.context import (
    audited,
    console,
    friendly,
    require_current_schema,
    state,
    transaction,
    utcnow,
)
from leadflow.cli.terminal import key_column, print_whole
from leadflow.core import rep_fields
from leadflow.core.limits import MAX_DB_INT
from leadflow.core.plural import counted
from leadflow.core.rep_fields import RepIn, RepPatch
from leadflow.services import playbooks, reps, webhooks

reps_app = typer.Typer(
    help="Sales reps: add, update (out of office, capacity...), list.", no_args_is_help=True
)
webhooks_app = typer.Typer(
    help="Outbound webhooks: add (secret shown once), list, disable, log, replay.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the hand-off commands."""
    app.add_typer(reps_app, name="reps")
    app.add_typer(webhooks_app, name="webhooks")
    app.command("worker")(worker)
    app.command("sla")(sla_command)


@reps_app.command("add")
@friendly
def add_rep(
    email: str = typer.Argument(..., help="The rep's e-mail (how rules and owners name them)."),
    name: str = typer.Option(..., "--name"),
    team: str = typer.Option(..., "--team", help="The team routing rules send leads to."),
    capacity: int = typer.Option(20, "--capacity", min=1, help="New leads per day."),
    weight: float = typer.Option(1.0, "--weight", min=0.1, help="Share of the round-robin."),
    hours: str = typer.Option(
        "mon-fri 09:00-17:00",
        "--hours",
        help="Working week (a day may end at 24:00; 22:00-06:00 is a night shift).",
    ),
    timezone: str = typer.Option("UTC", "--tz", help="e.g. Europe/Berlin"),
    manager: str | None = typer.Option(None, "--manager", help="The manager's e-mail."),
    territory: list[str] = typer.Option([], "--territory", help="Repeatable."),
    channel: list[str] = typer.Option([], "--channel", help="An Apprise URL; repeatable."),
) -> None:
    """Add a rep; bad fields, hours, time zone or channel URLs are refused with the reason."""
    fields = rep_fields.checked(
        RepIn,
        {
            "email": email,
            "name": name,
            "team": team,
            "capacity": capacity,
            "weight": weight,
            "working_hours": hours,
            "timezone": timezone,
            "manager_email": manager,
            "territories": territory,
            "channels": channel,
        },
    )  # the API's and the web form's checks: one definition
    with transaction() as session:
        rep = reps.add_rep(session, fields, now=utcnow())
        details = {"email": rep.email, "team": rep.team, "fields": sorted(fields)}
        audited(session, "rep.add", f"rep:{rep.id}", details)
        notes = playbooks.team_notes(session, rep.team)
    for note in notes:
        console.print(note)
    console.print(f"added rep {rep.id}: {rep.name} <{rep.email}> on team {rep.team}")


@reps_app.command("update")
@friendly
def update_rep(
    email: str = typer.Argument(..., help="The rep's e-mail."),
    out_of_office_until: datetime | None = typer.Option(
        None, "--out-of-office-until", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"],
        help="Gets no new leads until then: a day is its start, in the rep's time zone.",
    ),
    back: bool = typer.Option(False, "--back", help="Back in the office: clears out-of-office."),
    team: str | None = typer.Option(None, "--team"),
    capacity: int | None = typer.Option(None, "--capacity", min=1),
    weight: float | None = typer.Option(None, "--weight", min=0.1),
    hours: str | None = typer.Option(None, "--hours"),
    timezone: str | None = typer.Option(None, "--tz"),
    manager: str | None = typer.Option(None, "--manager"),
    channel: list[str] = typer.Option([], "--channel", help="Replaces the channels; repeatable."),
    active: bool | None = typer.Option(None, "--active/--inactive", help="Inactive: no new leads."),
) -> None:  # fmt: skip
    """Change a rep: only the options given change."""
    given: dict[str, object] = {
        "team": team,
        "capacity": capacity,
        "weight": weight,
        "working_hours": hours,
        "timezone": timezone,
        "manager_email": manager,
        "channels": channel or None,
        "active": active,
        "out_of_office_until": out_of_office_until,  # the rep's local time (services.reps)
    }
    fields = {name: value for name, value in given.items() if value is not None}
    if back:
        fields["out_of_office_until"] = None
    fields = rep_fields.checked(RepPatch, fields)
    with transaction() as session:
        rep = reps.update_rep_by_email(session, email, fields)
        details = {"email": rep.email, "team": rep.team, "fields": sorted(fields)}
        audited(session, "rep.update", f"rep:{rep.id}", details)
        status = _away(rep.out_of_office_until, rep.timezone)
        notes = playbooks.team_notes(session, rep.team) if team is not None else []
        line = f"updated rep {rep.id}: {rep.name} <{rep.email}>, team {rep.team}, {status}"
    for note in notes:
        console.print(note)
    console.print(line)


@reps_app.command("list")
@friendly
def list_reps() -> None:
    """Every rep with team, capacity, hours and channels."""
    with transaction() as session:
        rows = [
            (r.id, r.name, r.email, r.team, r.capacity, f"{r.working_hours} {r.timezone}",
             r.manager_email or "", len(r.channels or []))
            for r in reps.list_reps(session)
        ]  # fmt: skip
    table = Table(
        "id", "name", key_column("e-mail"), "team", "capacity", "hours", "manager", "channels"
    )
    for row in rows:
        table.add_row(*(str(v) for v in row))
    print_whole(console, table)  # `reps update` takes the e-mail


@webhooks_app.command("add")
@friendly
def add_webhook(
    url: str = typer.Argument(..., help="Where to POST signed lead events."),
    events: list[str] = typer.Option(
        [], "--events", help=f"Repeatable; default all: {', '.join(webhooks.EVENT_TYPES)}."
    ),
) -> None:
    """Register an endpoint; its signing secret is printed once, alone on the last line."""
    with transaction() as session:
        made = webhooks.add_endpoint(session, url, events, now=utcnow())
        details = {"url": made.endpoint.url, "events": made.endpoint.events}  # URL redacted
        audited(session, "webhook.add", f"webhook:{made.endpoint.id}", details)
        endpoint_id, kinds = made.endpoint.id, ", ".join(made.endpoint.events)
    console.print(f"added webhook {endpoint_id} for {kinds}; its signing secret (shown once):")
    print(made.secret)


@webhooks_app.command("list")
@friendly
def list_webhooks() -> None:
    """Every endpoint (never its secret)."""
    with transaction() as session:
        rows = [
            (e.id, e.url, ", ".join(e.events), "yes" if e.active else "no")
            for e in webhooks.list_endpoints(session)
        ]
    table = Table("id", "url", "events", "active")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)


@webhooks_app.command("disable")
@friendly
def disable_webhook(endpoint_id: int = typer.Argument(..., max=MAX_DB_INT)) -> None:
    """Stop sending to an endpoint."""
    with transaction() as session:
        webhooks.disable(session, endpoint_id)
        audited(session, "webhook.disable", f"webhook:{endpoint_id}")
    console.print(f"disabled webhook {endpoint_id}")


@webhooks_app.command("log")
@friendly
def delivery_log(limit: int = typer.Option(30, "--limit", min=1, max=500)) -> None:
    """The newest alerts and how their delivery went."""
    with transaction() as session:
        rows = [
            (m.alert_id, m.event_type, f"{m.target_kind}:{m.target}"[:40], m.attempts,
             "delivered" if m.delivered_at else "given up" if m.given_up_at else "pending",
             m.last_error or "")
            for m in webhooks.delivery_log(session, limit)
        ]  # fmt: skip
    table = Table(key_column("alert"), "type", "target", "tries", "status", "last error")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    print_whole(console, table)  # `webhooks replay` takes the alert id


@webhooks_app.command("replay")
@friendly
def replay(
    alert_id: str = typer.Argument(..., help="The alert's id (see `webhooks log`)."),
) -> None:
    """Send an alert again, under the same id."""
    with transaction() as session:
        count = webhooks.replay(session, alert_id, utcnow())
        audited(session, "webhook.replay", f"alert:{alert_id}", {"queued": count})
    console.print(f"queued {counted(count, 'delivery', 'deliveries')} of {alert_id} again")


@friendly
def worker(
    once: bool = typer.Option(False, "--once", help="One pass, then exit."),
    interval: float = typer.Option(0.5, "--interval", min=0.01, help="Seconds between passes."),
) -> None:
    """Deliver alerts and sweep SLA deadlines (also runs inside `leadflow serve`)."""
    import httpx

    from leadflow import logs
    from leadflow.cli.serve import log_format_from_env
    from leadflow.models.db import make_engine, make_session_factory
    from leadflow.worker import Worker

    logs.configure(log_format_from_env())
    require_current_schema()  # one line, not a failing pass every half second
    engine = make_engine(state.url())
    job = Worker(make_session_factory(engine), interval=interval)
    if once:
        with httpx.Client() as client:
            delivered = job.run_once(client)
        console.print(f"delivered {counted(delivered, 'message')}")
        anonymized = job.retain()
        if anonymized:
            console.print(
                f"anonymized {counted(anonymized, 'event')} older than the retention period"
            )
        return
    console.print(f"worker {job.name} on {state.shown_url()}; Ctrl-C stops it")
    try:
        job.run()
    except KeyboardInterrupt:
        job.stop.set()


@friendly
def sla_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """This month's SLA, both sides: MQLs against the commitment, hand-offs met or breached."""
    import json

    from leadflow.services import playbooks, sla

    with transaction() as session:
        report = sla.month_report(session, playbooks.active_playbook(session), utcnow())
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    marketing, sales = report["marketing"], report["sales"]
    promised = marketing["commitment"] or "no commitment"
    console.print(f"{report['month']}: marketing {counted(marketing['mqls'], 'MQL')} of {promised}")
    console.print(
        f"  sales: {counted(sales['handoffs'], 'hand-off')}, {sales['met']} met, "
        f"{sales['breached']} breached, {sales['open']} open; median first touch "
        f"{_minutes(sales['median_minutes_to_first_touch'])} min"
    )


def _away(until: datetime | None, zone: str) -> str:
    """`out of office until` the moment in the rep's zone (and in UTC beside it)."""
    if until is None:
        return "in office"
    local = until.astimezone(ZoneInfo(zone))
    utc = "" if zone == "UTC" else f" ({until.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    return f"out of office until {local:%Y-%m-%d %H:%M} {zone}{utc}"


def _minutes(value: float | None) -> str:
    """Minutes to a tenth (`7.0`), `-` when there is nothing to measure."""
    return "-" if value is None else f"{value:.1f}"
