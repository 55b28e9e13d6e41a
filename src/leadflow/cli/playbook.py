"""`leadflow playbook ...`: validate, schema, apply, show; shadow, compare, promote."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from leadflow.cli.context import console, errors, fail, friendly, transaction, utcnow
from leadflow.cli.shadow_text import print_comparison
from leadflow.core.playbook import json_schema
from leadflow.core.playbook_text import PlaybookInvalid, parse_playbook
from leadflow.core.plural import counted
from leadflow.services import playbooks, shadow

app = typer.Typer(help="The shared playbook: validate, apply and inspect it.", no_args_is_help=True)


def read_text(path: Path) -> str:
    """The file's text, or a clear error."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read it ({exc})") from None


def report_problems(path: Path, exc: PlaybookInvalid) -> typer.Exit:
    """Print each problem as `FILE:LINE: path: message`."""
    for problem in exc.problems:
        where = f"{path}:{problem.line}" if problem.line else str(path)
        line = f"{where}: {problem.path or '(top)'}: {problem.message}"
        errors.print(line, highlight=False, markup=False)  # messages quote YAML: [a, b]
    return fail(f"{path} is not a valid playbook ({counted(len(exc.problems), 'problem')})")


@app.command()
def validate(file: Path) -> None:
    """Check a playbook; exits non-zero and names each error's path and line."""
    try:
        book = parse_playbook(read_text(file))
    except PlaybookInvalid as exc:
        raise report_problems(file, exc) from None
    console.print(
        f"[green]valid[/]: {escape(book.name)} — {counted(len(book.personas), 'persona')}, "
        f"{counted(len(book.fit.rules), 'fit rule')}, "
        f"{counted(len(book.engagement.rules), 'engagement rule')}, "
        f"{counted(len(book.tiers), 'tier')}",
        markup=True,
    )


@app.command()
def schema() -> None:
    """Print the playbook's JSON Schema (for editor autocompletion)."""
    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
@friendly
def apply(
    file: Path,
    author: str = typer.Option("cli", help="Who agreed this version."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change; change nothing."
    ),
    backtest: bool = typer.Option(
        False,
        "--backtest",
        help="With --dry-run: compare it with the active playbook on every lead's history "
        "(MQLs, conversions, ROC-AUC, disagreements), as `playbook compare` does live.",
    ),
    as_json: bool = typer.Option(False, "--json", help="With --backtest: the figures as JSON."),
) -> None:
    """Version a playbook, show the diff and stage changes, and re-score every lead."""
    if backtest and not dry_run:
        raise fail("--backtest needs --dry-run: a backtest changes nothing")
    text = read_text(file)
    try:
        parse_playbook(text)
    except PlaybookInvalid as exc:
        raise report_problems(file, exc) from None
    if backtest:
        with transaction() as session:
            figures = shadow.backtest(session, text, utcnow())
            session.rollback()
        print_comparison(figures, as_json)
        return
    with transaction() as session:
        outcome = playbooks.apply(session, text, author=author, now=utcnow(), dry_run=dry_run)
        if dry_run:
            session.rollback()
    print_outcome(outcome)


def print_outcome(outcome: playbooks.ApplyOutcome) -> None:
    """The diff, then what was (or would be) re-scored and moved."""
    if outcome.diff:
        console.print(outcome.diff, markup=False, highlight=False)
    for line in outcome.summary_lines():
        console.print(line)


@app.command("shadow")
@friendly
def shadow_command(
    file: Path | None = typer.Argument(None, help="The candidate playbook (YAML)."),
    stop: bool = typer.Option(False, "--stop", help="Stop the running shadow candidate."),
    author: str = typer.Option("cli", help="Who proposed this candidate."),
) -> None:
    """Run a candidate beside the active playbook on live events, acting on nothing."""
    if stop:
        with transaction() as session:
            stopped = shadow.stop(session, author=author, now=utcnow())
        console.print(f"stopped the shadow run of version {stopped.version}")
        return
    if file is None:
        raise fail("give the candidate playbook FILE (or --stop)")
    text = read_text(file)
    try:
        parse_playbook(text)
    except PlaybookInvalid as exc:
        raise report_problems(file, exc) from None
    with transaction() as session:
        version = shadow.start(session, text, author=author, now=utcnow())
        number = version.version
    console.print(
        f"version {number} now runs in the shadow: every live event scores it too, and "
        "nothing acts on it; see `leadflow playbook compare`",
        highlight=False,
    )


@app.command()
@friendly
def compare(as_json: bool = typer.Option(False, "--json")) -> None:
    """The shadow candidate against the active playbook, on the leads both scored."""
    with transaction() as session:
        figures = shadow.compare_live(session)
    print_comparison(figures, as_json)


@app.command()
@friendly
def promote(
    author: str = typer.Option("cli", help="Who agreed this version."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change; change nothing."
    ),
) -> None:
    """Make the shadow candidate the active playbook: its diff, re-score and stage moves."""
    with transaction() as session:
        outcome = shadow.promote(session, author=author, now=utcnow(), dry_run=dry_run)
        if dry_run:
            session.rollback()
    print_outcome(outcome)


@app.command()
@friendly
def show() -> None:
    """Print the active playbook's YAML and version."""
    with transaction() as session:
        version = playbooks.active_version(session)
    console.print(
        f"# version {version.version} by {version.author} at {version.created_at:%Y-%m-%d %H:%M}"
        f" sha256 {version.content_hash[:12]}",
        highlight=False,
    )
    typer.echo(version.content)
