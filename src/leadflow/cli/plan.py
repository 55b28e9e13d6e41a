"""`leadflow plan`: the revenue goal worked backwards into targets for every stage."""

from __future__ import annotations

import json
import os

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.cli.context import console, fail, friendly, transaction, utcnow
from leadflow.core import amounts
from leadflow.core.limits import MAX_DAYS
from leadflow.core.plan import parse_rates
from leadflow.services import plan as plan_service


def register(app: typer.Typer) -> None:
    """Add `leadflow plan`."""
    app.command("plan")(plan)


@friendly
def plan(
    goal: str = typer.Option(..., "--goal", metavar="AMOUNT", help="Revenue goal for the period."),
    deal_size: str = typer.Option(..., "--deal-size", metavar="AMOUNT", help="Average deal size."),
    period: str = typer.Option(
        "quarter", "--period", help="month, quarter, year (the current one), or 2026-Q4 ..."
    ),
    rate: list[str] = typer.Option(
        [], "--rate", help="STAGE=R: share of STAGE that reaches the next stage; repeatable."
    ),
    window: int = typer.Option(
        180, "--window", min=1, max=MAX_DAYS, help="Days of history for measured rates."
    ),
    reps: int | None = typer.Option(None, "--reps", min=1, help="Reps sharing sales' targets."),
    commit_mqls: bool = typer.Option(
        False, "--commit-mqls", help="Make the MQLs per month marketing's SLA commitment."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON entry per stage."),
) -> None:
    """Customers, opportunities, SQLs, MQLs, leads and visits the goal needs, against actuals."""
    try:
        rates = parse_rates(rate)
    except ValueError as exc:
        raise fail(f"--rate {exc}") from None
    request = plan_service.PlanRequest(
        amounts.read(goal, "--goal", positive=True),
        amounts.read(deal_size, "--deal-size", positive=True),
        period, rates, window, reps, rate_by_hand="--rate {stage}=R",
    )  # fmt: skip
    with transaction() as session:
        result = plan_service.build(session, request, utcnow())
        committed = None
        if commit_mqls:
            author = os.environ.get("USER") or "leadflow"
            committed = plan_service.commit_mqls(session, result, author=author, now=utcnow())
    if as_json:
        typer.echo(json.dumps(result["stages"], indent=2))
        return
    show(result)
    if committed:
        console.print(f"marketing's MQL commitment is now {committed[0]} a month "
                      f"(playbook version {committed[1]})")  # fmt: skip


def _source(step: dict[str, object]) -> str:
    if step["rate_source"] is None:
        return "-"
    return "given" if step["rate_source"] == "given" else f"measured, n={step['rate_n']:,}"


def show(result: dict[str, object]) -> None:
    period = result["period"]
    assert isinstance(period, dict)
    console.print(
        f"[bold]Plan for {escape(str(period['name']))}[/]: {result['goal']:,.0f} at"
        f" {result['deal_size']:,.0f} a deal, {result['reps']} reps;"
        f" {period['elapsed']:.0%} of the period gone",
        markup=True,
    )
    table = Table("stage", "required", "actual", "due by now", "projected", "on pace",
                  "per rep", "rate to next", "rate from")  # fmt: skip
    stages = result["stages"]
    assert isinstance(stages, list)
    for s in stages:
        table.add_row(
            s["stage"], f"{s['required']:,}", f"{s['actual']:,}", f"{s['due_by_now']:,.0f}",
            "-" if s["projected"] is None else f"{s['projected']:,.0f}",
            "yes" if s["on_pace"] else "no", "-" if s["per_rep"] is None else str(s["per_rep"]),
            "-" if s["rate"] is None else f"{s['rate']:.2%}", _source(s),
        )  # fmt: skip
    console.print(table)
    if result.get("visits_as_of"):  # the worker's snapshot (see services/reports/snapshots.py)
        console.print(f"visitors counted as of {str(result['visits_as_of'])[:16]} UTC")
    sensitivity = Table("one more point at", "from", "extra revenue", "fewer visits needed")
    rows = result["sensitivity"]
    assert isinstance(rows, list)
    for row in rows:
        sensitivity.add_row(row["stage"], f"{row['rate']:.2%}", f"{row['extra_revenue']:,.0f}",
                            f"{row['fewer_visits_needed']:,}")  # fmt: skip
    console.print(sensitivity)
