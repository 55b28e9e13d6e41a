"""`leadflow model train|list`: predictive scoring learned from outcomes."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from leadflow.cli.context import console, friendly, transaction, utcnow
from leadflow.core.plural import counted
from leadflow.services import playbooks

app = typer.Typer(
    help="Predictive scoring: train on outcomes, list versions.", no_args_is_help=True
)


def register(main: typer.Typer) -> None:
    """Add `leadflow model`."""
    main.add_typer(app, name="model")


@app.command("train")
@friendly
def train(
    negative: list[str] = typer.Option(
        ["lost", "disqualified"], "--negative", help="What counts as not converting; repeatable."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Learn from closed leads as they were when they became sales-ready; keep it, score leads."""
    from leadflow.services import model  # scikit-learn loads only here

    with transaction() as session:
        book = playbooks.active_playbook(session)
        result = model.train(session, book, utcnow(), negatives=tuple(negative))
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    m = result["metrics"]
    console.print(
        f"model {result['version']} ({result['kind']}, the better of the two out of sample): "
        f"{m['outcomes']:,} outcomes ({m['converted']:,} converted), tested on "
        f"{m['tested']:,}, {m['validation']}", highlight=False,
    )  # fmt: skip
    table = Table("measure", "model", "active playbook")
    table.add_row("ROC-AUC", str(m["roc_auc"]), str(m["playbook_roc_auc"]))
    table.add_row("lift, top 20%", str(m["lift_top_20"]), str(m["playbook_lift_top_20"]))
    table.add_row("lift, top 10%", str(m["lift_top_10"]), str(m["playbook_lift_top_10"]))
    table.add_row("PR-AUC", str(m["pr_auc"]), str(m["playbook_pr_auc"]))
    table.add_row("  logistic scorecard ROC-AUC", str(m["scorecard_roc_auc"]), "")
    table.add_row("  gradient boosting ROC-AUC", str(m["gbm_roc_auc"]), "")
    if "active_model_roc_auc" in m:
        table.add_row("  model in use ROC-AUC", str(m["active_model_roc_auc"]), "")
    console.print(table)
    for top in result["top"]:
        console.print(f"  {top['weight']:+.2f}  {top['rule']}", highlight=False)
    console.print(result["decision"], highlight=False)
    if result["served"]:
        scored = result["leads_scored"]
        has = "has" if scored == 1 else "have"
        console.print(f"{counted(scored, 'lead')} without an outcome {has} a probability now")


@app.command("list")
@friendly
def list_models() -> None:
    """Every trained version, the active one marked."""
    from leadflow.services import model

    with transaction() as session:
        rows = [(m.version, "yes" if m.active else "", m.created_at.strftime("%Y-%m-%d %H:%M"),
                 m.kind, m.metrics.get("outcomes"), m.metrics.get("roc_auc"),
                 m.metrics.get("playbook_roc_auc"))
                for m in model.versions(session)]  # fmt: skip
    table = Table("version", "active", "trained", "kind", "outcomes", "ROC-AUC",
                  "playbook ROC-AUC")  # fmt: skip
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
