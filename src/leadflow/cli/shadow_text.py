"""How `playbook compare` and `playbook apply --dry-run --backtest` print their figures."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from leadflow.cli.context import console
from leadflow.core.plural import counted

SHOWN = 10


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def print_comparison(figures: dict[str, Any], as_json: bool) -> None:
    """The figures as JSON, or a table and the leads the two playbooks disagree on."""
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    where = "live, since the shadow started" if figures["mode"] == "shadow" else "on history"
    candidate = figures["candidate_version"] or "(file)"
    console.print(
        f"active version {figures['active_version']} vs candidate {candidate} "
        f"({figures['candidate_name']}), {where}: {counted(figures['leads'], 'lead')}, "
        f"{figures['closed']} closed, {figures['won']} won",
        highlight=False,
    )
    table = Table("", "active", "candidate")
    labels = {"mqls": "MQLs", "mqls_closed": "MQLs closed", "mqls_won": "MQLs won",
              "mql_win_rate": "MQL win rate", "auc": "ROC-AUC (closed leads)"}  # fmt: skip
    for key, label in labels.items():
        table.add_row(label, _cell(figures["active"][key]), _cell(figures["candidate"][key]))
    console.print(table)
    disagree = figures["disagree"]
    console.print(
        f"disagree on {counted(disagree['active_only'] + disagree['candidate_only'], 'lead')}: "
        f"{disagree['active_only']} MQL only for the active, "
        f"{disagree['candidate_only']} only for the candidate",
        highlight=False,
    )
    for row in disagree["leads"][:SHOWN]:
        side = "candidate" if row["candidate_mql"] else "active"
        outcome = row["outcome"] or "open"
        console.print(
            f"  lead {row['lead_id']}: active {row['active_total']}, candidate "
            f"{row['candidate_total']}, MQL for the {side} only, outcome {outcome}",
            highlight=False,
        )
