"""`leadflow demo`: build a realistic demo company and show what leadflow makes of it."""

from __future__ import annotations

import os
import random
import sys
import threading
import webbrowser
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.engine import make_url

from leadflow.cli.context import console, fail, friendly, state, transaction, utcnow
from leadflow.cli.serve import run_server
from leadflow.cli.setup import EXAMPLES
from leadflow.cli.terminal import key_column, print_whole
from leadflow.core.demo_traffic import Rates
from leadflow.core.roles import Role
from leadflow.core.stages import IN_PLAY
from leadflow.models.db import make_engine, upgrade
from leadflow.services import demo_live, keys, leads, playbooks, reporting, users
from leadflow.services.reports import snapshots


def register(app: typer.Typer) -> None:
    """Add `leadflow demo` to the app."""
    app.command("demo")(demo)


@friendly
def demo(
    lead_count: int = typer.Option(5_000, "--leads", min=10, max=2_000_000, help="Demo size."),
    seed: int = typer.Option(7, help="Random seed: the same seed builds the same company."),
    fresh: bool = typer.Option(
        False,
        "--fresh",
        help="Start again: a SQLite file is moved aside (kept) and a new company built.",
    ),
    no_serve: bool = typer.Option(False, "--no-serve", help="Only build the data, then exit."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to serve on."),
    port: int = typer.Option(8000, "--port", help="TCP port to serve on."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open the app in a browser."),
    live: bool = typer.Option(
        True, "--live/--no-live", help="Keep the demo company's website sending events."
    ),
    first_demo: float = typer.Option(
        Rates.first_demo_after,
        "--first-demo-after",
        min=0,
        max=3600,
        help="Seconds until the live site's first demo request from a top-tier account.",
    ),
) -> None:
    """Generate a demo company on the B2B example playbook and show the result."""
    server_database = fresh and not _set_aside(state.url())
    engine = make_engine(state.url())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    text = (EXAMPLES / "b2b_saas.yaml").read_text(encoding="utf-8")
    now = utcnow()
    with transaction() as session:
        count = reporting.lead_count(session)
        if server_database and count:
            raise fail(
                f"--fresh starts a new SQLite file; {state.shown_url()!r} is a database "
                "server's: drop and create that database (or point --db at an empty one), "
                "then run leadflow demo"
            )
        if not count:
            from leadflow.services import demo as demo_service  # Faker is slow to import

            with console.status(f"building a demo company with {lead_count:,} leads..."):
                built = demo_service.build(session, text, leads=lead_count, now=now, seed=seed)
            console.print(
                f"built {built.accounts:,} accounts, {built.leads:,} leads and "
                f"{built.events:,} events; scored in {built.score_seconds:.1f} s",
                highlight=False,
            )
            console.print(built.model, highlight=False)
            # The pages' snapshots at once, not at the worker's first pass.
            snapshots.refresh(session, playbooks.active_playbook(session), utcnow())
        else:
            console.print("the database already has leads: showing them (--fresh rebuilds)")
        stages = reporting.stage_counts(session)
        # The leads to work next: the best scored of all are often won or disqualified.
        top = leads.list_top(session, stages=tuple(IN_PLAY), limit=10)
    _show(stages, top)
    if no_serve:
        return
    with transaction() as session:
        demo_key = keys.create(session, Role.ADMIN, "demo", utcnow()).secret
        password, token = users.demo_users(session, utcnow())
        if live:
            write_key = keys.create(session, Role.INGEST, "demo website", utcnow()).secret
            seeds = demo_live.seeds(session, random.Random(seed + 2))
    base = f"http://{host}:{port}"
    link = f"{base}/welcome?token={token}"
    people = "\n".join(f"  {role.value:<10} {email}" for email, _, role in users.DEMO_USERS)
    console.print(
        f"\nThe app: {link}\n  (one-time: confirm on its page to sign in as the sales manager)"
        f"\nOr sign in at {base}/login as any of these, password {password} (new every run):"
        f"\n{people}"
        f"\n\nThe API: docs {base}/docs, health /healthz, metrics /metrics"
        f"\nA demo admin key (shown once):\n  {demo_key}\n"
        f"  curl -H 'Authorization: Bearer {demo_key}' {base}/api/leads?limit=5\n"
        "Ctrl+C stops the server.",
        highlight=False,
    )
    if live:
        local = f"http://127.0.0.1:{port}" if host in ("0.0.0.0", "::") else base
        from leadflow.cli import demo_live as live_site  # its HTTP client loads only to serve

        live_site.start(local, write_key, seeds, seed, Rates(first_demo_after=first_demo))
        console.print(
            "Live: the demo company's website keeps sending visits, sign-ups, e-mail clicks "
            f"and, in about {first_demo:.0f} s, a demo request from a top-tier "
            "account: watch it reach the queue and the bell (--no-live turns this off).",
            highlight=False,
        )
    if open_browser and _has_screen():
        threading.Timer(1.5, webbrowser.open, args=(link,)).start()
    run_server(state.url(), host, port)


def _has_screen() -> bool:
    """A browser can open here (not a headless server, where webbrowser may start lynx)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _show(stages: dict[str, int], top: list[dict[str, object]]) -> None:
    table = Table("stage", "leads", title=f"Funnel in {state.shown_url()}")
    for stage, count in stages.items():
        table.add_row(stage, f"{count:,}")
    console.print(table)
    best = Table(
        key_column("email"), "title", "stage", "grade", "total", "persona",
        title="Top 10 leads still in play (not customers, nurture or disqualified)",
    )  # fmt: skip
    for row in top:
        best.add_row(
            str(row["email"]),
            str(row["title"] or ""),
            str(row["stage"]),
            str(row["grade"]),
            f"{row['total']:g}",
            str(row["persona"] or ""),
        )
    print_whole(console, best)
    example = top[0]["email"] if top else "someone@example.com"
    console.print(
        "\nTry:\n"
        f"  leadflow leads show {example}     # the score explained rule by rule\n"
        "  leadflow leads list --stage sql --json\n"
        "  leadflow playbook show            # the agreement both teams signed\n"
        "  leadflow playbook apply examples/b2b_saas.yaml --dry-run",
        highlight=False,
    )


def _set_aside(url: str) -> bool:
    """`--fresh` on a SQLite file: the file, if any, moved aside with its journal files (never
    deleted: it may hold more than a demo), so the demo builds a new one. False for a database
    server's database, which is not emptied here (a demo built on top would double the
    company: the caller refuses when it holds leads)."""
    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite":
        return False
    path = Path(name)
    if name in ("", ":memory:") or not path.exists():
        return True
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    kept = path.with_name(f"{path.name}.before-demo-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        old = path.with_name(path.name + suffix)
        if old.exists():
            old.rename(kept.with_name(kept.name + suffix))
    console.print(
        f"--fresh: the database before is kept as {kept}", highlight=False, soft_wrap=True
    )
    return True
