"""`leadflow init` and `leadflow rescore`."""

from __future__ import annotations

from pathlib import Path

import typer

from leadflow.cli.context import console, friendly, state, transaction, utcnow
from leadflow.cli.playbook import read_text, report_problems
from leadflow.core.playbook_text import PlaybookInvalid, parse_playbook
from leadflow.models.db import make_engine, upgrade
from leadflow.services import lifecycle, playbooks, rescore

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
    engine = make_engine(state.url())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print(f"database ready: {state.shown_url()}", highlight=False)
    if playbook is None:
        return
    text = read_text(playbook)
    try:
        parse_playbook(text)
    except PlaybookInvalid as exc:
        raise report_problems(playbook, exc) from None
    with transaction() as session:
        outcome = playbooks.apply(session, text, author=author, now=utcnow())
    for line in outcome.summary_lines():
        console.print(line)


@friendly
def rescore_command() -> None:
    """Recompute every lead's score from its events at the current time (e.g. after decay)."""
    with transaction() as session:
        book = playbooks.active_playbook(session)
        now = utcnow()
        result = rescore.rescore_all(session, book, now)
        moves = lifecycle.advance_all(session, book, now, actor="rescore")
    console.print(
        f"re-scored {result.leads} leads from {result.events} events in {result.seconds:.1f} s"
    )
    for (a, b), n in sorted(moves.items()):
        console.print(f"moved {n} leads {a} -> {b}")
