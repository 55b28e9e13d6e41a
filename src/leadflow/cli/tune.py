"""`leadflow tune`: a playbook proposed from outcomes, measured out of sample."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from leadflow.cli.context import console, errors, fail, friendly, transaction
from leadflow.cli.file_options import DELIMITER_HELP, ENCODING_HELP, check_writable


def register(app: typer.Typer) -> None:
    """Add `leadflow tune`."""
    app.command("tune")(tune)


@friendly
def tune(
    history: Path | None = typer.Option(
        None, "--history", help="A CRM export (CSV); without it, leadflow's own closed leads."
    ),
    target: str | None = typer.Option(None, "--target", help="The outcome column (yes/no, 1/0)."),
    exclude: list[str] = typer.Option([], "--exclude", help="A column not to learn from."),
    mql_share: float = typer.Option(0.2, "--mql-share", min=0.01, max=0.99,
                                    help="The share of leads the proposal makes MQL."),
    precision: float | None = typer.Option(
        None, "--precision", min=0.01, max=1.0,
        help="Instead of a share: the most MQLs that still convert at this rate.",
    ),
    write: Path | None = typer.Option(None, "--write", help="Write the proposed playbook here."),
    as_json: bool = typer.Option(False, "--json"),
    encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
    delimiter: str | None = typer.Option(None, "--delimiter", help=DELIMITER_HELP),
) -> None:  # fmt: skip
    """Learn points and an MQL threshold from outcomes; report their AUC out of sample."""
    if history is not None and target is None:
        raise fail("--history needs --target COLUMN: the column with the outcome")
    if write is not None:
        check_writable(write)
    if history is None:
        from leadflow.services import playbooks, tuning_db  # scikit-learn loads only here

        with transaction() as session:
            book = playbooks.active_playbook(session)
            result = tuning_db.tune(session, book, mql_share=mql_share, precision=precision)
    else:
        from leadflow.services import tuning

        assert target is not None
        result = tuning.tune_history(
            history,
            target,
            exclude,
            mql_share=mql_share,
            precision=precision,
            encoding=encoding,
            delimiter=delimiter,
        )
        if not as_json:
            errors.print(f"{history.name}: read as {result['read_as']}", highlight=False)
    if write is not None:
        try:
            write.write_text(result["playbook"], encoding="utf-8")
        except OSError as exc:  # e.g. no permission: one line, not a traceback
            raise fail(f"--write: cannot write {write}: {exc.strerror or exc}") from None
        result["written"] = str(write)
    if as_json:
        typer.echo(json.dumps({k: v for k, v in result.items() if k != "playbook"}, indent=2))
        return
    show(result)


def show(result: dict[str, object]) -> None:
    console.print(
        f"{result['rows']:,} rows, {result['converted']:,} converted; out of sample over "
        f"{result['folds']} folds: best model {result['model']} AUC {result['auc']} (logistic "
        f"scorecard {result['scorecard_auc']}, gradient boosting {result['gbm_auc']}), proposed "
        f"playbook AUC {result['playbook_auc']}"
        + (f", active playbook AUC {result['active_playbook_auc']}"
           if "active_playbook_auc" in result else ""),
        highlight=False,
    )  # fmt: skip
    baselines = result.get("baselines")
    if isinstance(baselines, dict):
        console.print("baselines on the same folds: " + ", ".join(
            f"{name} {auc}" for name, auc in baselines.items()), highlight=False)  # fmt: skip
    table = Table("points", "rule")
    rules = result["rules"]
    assert isinstance(rules, list)
    for rule in rules[:25]:
        table.add_row(f"{rule['points']:+g}", rule["label"])
    console.print(table)
    backtest = result["backtest"]
    assert isinstance(backtest, dict)
    console.print(
        f"MQL at the top {backtest['mql_share']:.0%}: {backtest['mqls']:,} MQLs converting at "
        f"{backtest['mql_conversion']:.1%} (all leads {backtest['base_conversion']:.1%}), "
        f"{backtest['customers_caught']:,} of {backtest['customers']:,} customers caught",
        highlight=False,
    )
    if result.get("written"):
        console.print(f"wrote {result['written']} (it validates: `leadflow playbook apply` it)")
