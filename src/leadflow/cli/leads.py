"""`leadflow leads list|show|act|touch|note`."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from leadflow.cli.context import console, friendly, transaction, utcnow
from leadflow.cli.terminal import key_column, print_whole
from leadflow.core import amounts, team_events
from leadflow.core.lifecycle import Action
from leadflow.core.limits import MAX_DAYS
from leadflow.core.plural import counted
from leadflow.core.scoring import GRADE_PATTERN
from leadflow.core.stages import Stage
from leadflow.services import leads, lifecycle, playbooks, reps, sales
from leadflow.services import merge as merge_service

app = typer.Typer(
    help="Leads by score, one lead explained, and sales' actions on them.", no_args_is_help=True
)


def _grade(value: str | None) -> str | None:
    """A grade as the API takes one (A1 to D4): `a1` or `Z9` would list nothing, silently."""
    if value is not None and not re.fullmatch(GRADE_PATTERN, value):
        raise typer.BadParameter(f"{value!r} is not a grade: A1 to D4 (a letter, then a digit)")
    return value


@app.command("list")
@friendly
def list_leads(
    stage: Stage | None = typer.Option(None, help="Only this stage (e.g. mql)."),
    grade: str | None = typer.Option(None, help="Only this grade (A1 to D4).", callback=_grade),
    persona: str | None = typer.Option(None, help="Only this persona id."),
    limit: int = typer.Option(25, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="A JSON array, highest score first."),
) -> None:
    """The top leads by total score."""
    with transaction() as session:
        rows = leads.list_top(
            session, stage=stage.value if stage else None, grade=grade, persona=persona, limit=limit
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(
        key_column("email"), "name", "title", "stage", "grade", "fit", "eng.", "total",
        "persona",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            row["email"] or f"{row['id']} (no e-mail)",
            row["name"] or "",
            row["title"] or "",
            row["stage"],
            row["grade"] or "",
            f"{row['fit']:g}",
            f"{row['engagement']:g}",
            Text(f"{row['total']:g}", style="bold"),
            row["persona"] or "",
        )
    print_whole(console, table)


def _number(value: float | int | None) -> str:
    """A figure as people read it: `7,768,950`, `12.5`, never `7.76895e+06`."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + _number(value)


def _print_detail(data: dict[str, Any]) -> None:
    # Everything a lead holds came from outside (forms, CRMs, the write key): escaped, so a
    # regex like `[eot]` or a name like `[bold]` prints as written, never as markup.
    account = data["account"] or {}
    tier = f" [magenta](tier {escape(str(account['tier']))})[/]" if account.get("tier") else ""
    # A lead known by a user id or an anonymous id alone has no e-mail yet (as `list` says).
    email = data["email"]
    who = escape(data["name"] or email or "(anonymous)")
    address = f" <{escape(email)}>" if email else f" (lead {data['id']})"
    title = f"{escape(data['title'])} " if data["title"] else ""
    console.print(
        f"[bold]{who}[/]{address} — "
        f"{title}at {escape(account.get('name') or '(no account)')}{tier}",
        highlight=False,
        markup=True,
    )
    if data.get("other_emails"):  # addresses of records merged into this one
        console.print("also: " + ", ".join(data["other_emails"]), highlight=False)
    if data.get("account_match"):
        match = data["account_match"]
        sure = f"confidence {match['confidence']:.2f}" if match["confidence"] is not None else ""
        console.print(f"account match: {match['reason']} ({sure})")
    console.print(
        f"stage [bold]{data['stage']}[/]  grade [bold]{data['grade']}[/]  "
        f"fit {_number(data['fit'])} + engagement {_number(data['engagement'])} "
        f"= total [bold]{_number(data['total'])}[/]",
        highlight=False,
        markup=True,
    )
    _print_owner(data)
    if data.get("recycle_until") and data["stage"] == "nurture":
        console.print(f"recycled: may re-engage on {data['recycle_until'][:10]}", highlight=False)
    if data["persona_detail"]:
        persona = data["persona_detail"]
        console.print(f"persona [cyan]{escape(persona['name'])}[/]: talking points:", markup=True)
        for point in persona["talking_points"]:
            console.print(f"  • {point}")
    scored = f" (scored {data['scored_at'][:16]})" if data.get("scored_at") else ""
    table = Table("rule", "why", "points", title=f"Score, rule by rule{scored}")
    for c in data["contributions"]:
        why = c["label"] + (f" ({c['detail']})" if c.get("detail") else "")
        table.add_row(c["rule"], why, _signed(c["points"]))
    console.print(table)
    history = Table("at", "from", "to", "why", "by", title="Stage history")
    for h in data["stage_history"]:
        history.add_row(h["at"][:16], h["from"] or "", h["to"], h["reason"] or "",
                        h["actor"] or "")  # fmt: skip
    console.print(history)
    timeline = Table("at", "type", "what", title="Latest activity")
    for e in data["events"][:15]:
        timeline.add_row(e["at"][:16], e["type"], _what(e))
    console.print(timeline)


def _print_owner(data: dict[str, Any]) -> None:
    """Who has the lead; its latest hand-off's team, SLA and deadline, and why it was routed."""
    handoff = data.get("assignment")
    rep = (handoff or {}).get("rep")
    owner = data.get("owner")
    same = rep is not None and owner is not None and rep["email"] == owner
    who = f"{rep['name']} <{owner}>" if same and rep is not None else owner or "nobody"
    console.print(f"owner: {who}", highlight=False)
    if handoff is None:
        return
    due = handoff.get("sla_due_at")
    when = f", due {due[:16].replace('T', ' ')} UTC" if due else ""
    team = f"team {handoff['team']}" if handoff.get("team") else "no team"
    console.print(f"hand-off: {team}, SLA {handoff['sla_status']}{when}", highlight=False)
    if handoff.get("reason"):
        console.print(f"routed: {handoff['reason']}", highlight=False)


def _what(event: dict[str, Any]) -> str:
    """An event in a few words: a touch or note with its text, a page with its path."""
    properties = event["properties"] or {}
    words = team_events.team_words(event["name"], event.get("source"), properties)
    if words is not None:
        return words.line()
    return str(event["name"] or properties.get("path") or "")


@app.command("show")
@friendly
def show(
    key: str = typer.Argument(..., help="E-mail address or id."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """One lead: its score explained rule by rule, persona, stage history and timeline."""
    with transaction() as session:
        book = playbooks.active_playbook(session)
        data = leads.detail(session, key, book, utcnow())
        data["events"] = leads.timeline(session, data["id"])
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        _print_detail(data)


def _actor(actor: str | None) -> str:
    return actor or os.environ.get("USER") or "cli"


@app.command("act")
@friendly
def act(
    key: str = typer.Argument(..., help="The lead's e-mail or id."),
    action: Action = typer.Argument(
        ..., help="accept, recycle, disqualify, convert, close_won, close_lost"
    ),
    reason: str = typer.Option("", "--reason", help="Needed to recycle, disqualify, close lost."),
    recycle_days: int | None = typer.Option(None, "--recycle-days", min=1, max=MAX_DAYS),
    amount: str | None = typer.Option(None, "--amount", metavar="AMOUNT", help="The deal's."),
    reengage_on: datetime | None = typer.Option(
        None, "--reengage-on", formats=["%Y-%m-%d"], help="Recycle: may qualify again from then."
    ),
    expected_close: datetime | None = typer.Option(
        None, "--expected-close", formats=["%Y-%m-%d"], help="Convert: the expected close date."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Who acts (default: $USER)."),
    rep: str | None = typer.Option(
        None, "--rep", help="Accept: the active rep who takes a lead nobody owns (its owner)."
    ),
) -> None:
    """A stage action, recorded in the history with its actor and reason."""
    with transaction() as session:
        lead = leads.find(session, key)
        owner = None
        if action is Action.ACCEPT:  # the CLI is not a rep: a rep takes the lead, as via the API
            if rep is None and actor and reps.is_active_rep(session, actor):
                rep = actor
            owner = reps.accepting_rep(session, lead.owner, rep, field="--rep")
        move = lifecycle.act(
            session,
            lead,
            action,
            actor=_actor(actor),
            owner=owner,
            reason=reason,
            now=utcnow(),
            recycle_days=recycle_days,
            reengage_on=reengage_on.replace(tzinfo=UTC) if reengage_on else None,
            amount=None if amount is None else amounts.read(amount, "--amount"),
            expected_close=expected_close.date().isoformat() if expected_close else None,
        )
    console.print(f"{key}: {move.from_stage.value} -> {move.to_stage.value} ({move.reason})")


@app.command("touch")
@friendly
def touch(
    key: str = typer.Argument(..., help="The lead's e-mail or id."),
    channel: str = typer.Option("call", "--channel", help="call, email, meeting, chat, other"),
    text: str = typer.Option("", "--text"),
    question: list[str] = typer.Option([], "--question", help="Repeatable."),
    objection: list[str] = typer.Option([], "--objection", help="Repeatable."),
    actor: str | None = typer.Option(None, "--actor", help="Who touched (default: $USER)."),
) -> None:
    """Log a call, e-mail or meeting; the first touch keeps (or misses) the SLA."""
    if channel not in ("call", "email", "meeting", "chat", "other"):
        raise typer.BadParameter("call, email, meeting, chat or other", param_hint="--channel")
    with transaction() as session:
        lead = leads.find(session, key)
        done = sales.log_touch(
            session,
            lead,
            actor=_actor(actor),
            channel=channel,  # type: ignore[arg-type]
            text=text,
            questions=question,
            objections=objection,
            now=utcnow(),
        )
    console.print(f"logged a {channel} with {key}; SLA: {done['sla_status'] or 'no hand-off'}")


@app.command("note")
@friendly
def note(
    key: str = typer.Argument(..., help="The lead's e-mail or id."),
    text: str = typer.Argument(...),
    actor: str | None = typer.Option(None, "--actor", help="Who writes (default: $USER)."),
) -> None:
    """Add a note on where the conversation stands (either team)."""
    with transaction() as session:
        sales.add_note(
            session, leads.find(session, key), actor=_actor(actor), text=text, now=utcnow()
        )
    console.print(f"noted on {key}")


@app.command("merge")
@friendly
def merge(
    keep: str = typer.Argument(..., help="The lead to keep (e-mail or id)."),
    duplicate: str = typer.Argument(..., help="The duplicate to fold into it."),
    actor: str | None = typer.Option(None, "--actor", help="Who merges (default: $USER)."),
) -> None:
    """Merge a duplicate into a lead: its events, history and hand-offs move; it is re-scored."""
    with transaction() as session:
        book = playbooks.active_playbook(session)
        result = merge_service.merge_leads(session, book, keep, duplicate, actor=_actor(actor),
                                           now=utcnow())  # fmt: skip
    console.print(f"merged {result['merged']} into {result['kept']} "
                  f"({counted(result['events_moved'], 'event')} moved)")  # fmt: skip
