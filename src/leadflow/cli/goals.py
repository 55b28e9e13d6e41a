"""`leadflow goals ...` and `leadflow channels ...`: shared goals and the shared channels."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from leadflow.cli.context import audited, console, friendly, transaction, utcnow
from leadflow.core import amounts
from leadflow.core.limits import MAX_DB_INT
from leadflow.repositories import goals as goal_repo
from leadflow.services import digest, goals

goals_app = typer.Typer(help="Shared goals both teams are measured on.", no_args_is_help=True)
channels_app = typer.Typer(help="Shared channels: wins and the digest.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the closed-loop commands."""
    app.add_typer(goals_app, name="goals")
    app.add_typer(channels_app, name="channels")


@goals_app.command("add")
@friendly
def add_goal(
    name: str = typer.Argument(..., help="What both teams call it."),
    period: str = typer.Option(..., "--period", help="2026-Q4, 2026-11 or 2026."),
    revenue: str | None = typer.Option(
        None, "--revenue", metavar="AMOUNT", help="A revenue target."
    ),
    conversion: str | None = typer.Option(None, "--conversion", help="FROM:TO, lead:customer"),
    rate: float | None = typer.Option(None, "--rate", help="The conversion rate to reach."),
) -> None:
    """A revenue goal (--revenue) or a conversion goal (--conversion FROM:TO --rate R)."""
    with transaction() as session:
        target = None if revenue is None else amounts.read(revenue, "--revenue", positive=True)
        goal = goals.add_goal(session, name=name, period=period, revenue=target,
                              conversion=conversion, rate=rate, now=utcnow())  # fmt: skip
        audited(session, "goal.add", f"goal:{goal.id}", {"name": goal.name, "period": goal.period})
        console.print(f"added goal {goal.id}: {goal.name} ({goal.kind}, {goal.period})")


@goals_app.command("list")
@friendly
def list_goals(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every goal with its progress."""
    with transaction() as session:
        found = goals.all_progress(session, utcnow())
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table("id", "goal", "period", "target", "actual", "of target", "on pace", "n")
    for g in found:
        share = g["share_of_target"]
        table.add_row(str(g["id"]), g["name"], g["period"], f"{g['target']:,g}",
                      "-" if g["actual"] is None else f"{g['actual']:,g}",
                      "-" if share is None else f"{share:.0%}", "yes" if g["on_pace"] else "no",
                      str(g.get("n", g.get("deals", ""))))  # fmt: skip
    console.print(table)


@goals_app.command("delete")
@friendly
def delete_goal(goal_id: int = typer.Argument(..., max=MAX_DB_INT)) -> None:
    """Remove a goal."""
    with transaction() as session:
        goals.delete_goal(session, goal_id)
        audited(session, "goal.delete", f"goal:{goal_id}")
    console.print(f"deleted goal {goal_id}")


@channels_app.command("add")
@friendly
def add_channel(
    purpose: str = typer.Argument(..., help="wins or digest"),
    url: str = typer.Argument(..., help="An Apprise URL (Slack, Teams, e-mail, ...)."),
    schedule: str | None = typer.Option(None, "--schedule", help='digest: "mon 09:00"'),
    zone: str = typer.Option("UTC", "--tz", help="The schedule's time zone."),
) -> None:
    """Add a shared channel; a bad URL, schedule or zone is refused with the reason."""
    with transaction() as session:
        channel = digest.add_channel(session, purpose, url, schedule=schedule, zone=zone,
                                     now=utcnow())  # fmt: skip
        details = {"purpose": purpose, "url": channel.url, "schedule": schedule}  # URL redacted
        audited(session, "channel.add", f"channel:{channel.id}", details)
        when = (
            f", next digest {channel.next_run_at:%Y-%m-%d %H:%M} UTC" if channel.next_run_at else ""
        )
        console.print(f"added {purpose} channel {channel.id}{when}")


@channels_app.command("list")
@friendly
def list_channels() -> None:
    """Every shared channel."""
    with transaction() as session:
        rows = [(c.id, c.purpose, c.url.split("://")[0] + "://...", c.schedule or "", c.timezone)
                for c in goal_repo.channels(session)]  # fmt: skip
    table = Table("id", "purpose", "channel", "schedule", "zone")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
