"""`leadflow init` and `leadflow rescore`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from leadflow.cli.context import console, friendly, state, transaction, utcnow
from leadflow.cli.playbook import read_text, report_problems
from leadflow.core.errors import Invalid
from leadflow.core.playbook_text import PlaybookInvalid, parse_playbook
from leadflow.core.plural import counted
from leadflow.models.db import make_engine, upgrade
from leadflow.services import pipeline, playbooks

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def register(app: typer.Typer) -> None:
    """Add the set-up commands to the app."""
    app.command("init")(init)
    app.command("rescore")(rescore_command)


@friendly
def init(
    playbook: Path | None = typer.Option(None, "--playbook", help="Playbook YAML to install."),
    author: str = typer.Option("cli", help="Who agreed the playbook."),
) -> None:
    """Create or upgrade the database, and install a playbook."""
    text = None
    if playbook is not None:  # a missing or invalid playbook: refused before any database work
        text = read_text(playbook)
        try:
            parse_playbook(text)
        except PlaybookInvalid as exc:
            raise report_problems(playbook, exc) from None
    engine = make_engine(state.url())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print(f"database ready: {state.shown_url()}", highlight=False)
    if playbook is None or text is None:
        return
    with transaction() as session:
        outcome = playbooks.apply(session, text, author=author, now=utcnow())
    for line in outcome.summary_lines():
        console.print(line)


@friendly
def rescore_command(
    at: str | None = typer.Option(
        None,
        "--at",
        help="Score as of this moment (ISO 8601, e.g. 2027-01-15 or 2027-01-15T09:00+01:00; "
        "UTC when no offset) instead of now: to see decay.",
    ),
) -> None:
    """Recompute every lead's score from its events (now, or --at), move stages, hand off."""
    now = parse_moment(at) if at is not None else utcnow()  # "" is refused, not taken as now
    with transaction() as session:
        book = playbooks.active_playbook(session)
        result = pipeline.run_bulk(session, book, now, cause="rescore", actor="rescore",
                                   other_moment=at is not None)  # fmt: skip
    when = f" as of {now.isoformat()}" if at is not None else ""
    console.print(
        f"re-scored {counted(result.leads, 'lead')} from {counted(result.events, 'event')}{when} "
        f"in {result.seconds:.1f} s"
    )
    for (a, b), n in sorted(result.moves.items()):
        console.print(f"moved {counted(n, 'lead')} {a} -> {b}")


def parse_moment(text: str, option: str = "--at") -> datetime:
    """An ISO 8601 date or time (UTC unless it says otherwise), or Invalid naming the option."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            f"{option}: {text!r} is not a date or time (use e.g. 2027-01-15 or 2027-01-15T09:00Z)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:  # as the database stores it, in UTC: 9999-12-31T23:59-05:00 is in the year 10000
        moment.astimezone(UTC)
    except OverflowError:
        raise Invalid(f"{option}: {text!r} is outside the years 1-9999 in UTC") from None
    return moment
