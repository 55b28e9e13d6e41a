"""`leadflow tune --history FILE --target COLUMN [--json] [--write FILE]`."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from leadflow.cli.main import app
from leadflow.core.playbook import json_schema
from tests.cli.conftest import B2B, as_json
from tests.services.test_tuning import crm_export


def test_tune_reports_aucs_as_json_and_writes_a_valid_playbook(tmp_path: Path) -> None:
    runner = CliRunner()
    export = crm_export(tmp_path / "crm.csv", 1500)
    proposed = tmp_path / "proposed.yaml"
    args = ["tune", "--history", str(export), "--target", "Closed Won", "--exclude", "Email"]
    report = as_json(runner.invoke(app, [*args, "--json", "--write", str(proposed)]))
    assert {"auc", "playbook_auc", "gbm_auc", "model", "baselines", "backtest", "rules"} <= set(
        report
    )
    assert (
        0.5 < report["auc"] <= 1 and abs(report["scorecard_auc"] - report["playbook_auc"]) <= 0.03
    )
    assert report["model"] in ("logistic scorecard", "gradient boosting")
    assert report["auc"] == max(report["scorecard_auc"], report["gbm_auc"])
    assert set(report["baselines"]) == {"logistic one-hot", "naive Bayes on field frequencies",
                                        "gradient boosting (scikit-learn)"}  # fmt: skip
    assert "Email" not in report["columns"] and report["written"] == str(proposed)
    checked = runner.invoke(app, ["playbook", "validate", str(proposed)])
    assert checked.exit_code == 0 and "valid" in checked.stdout
    # the file as written, as an editor sees it: no schema problem either
    validator = jsonschema.Draft202012Validator(json_schema())
    assert list(validator.iter_errors(yaml.safe_load(proposed.read_text()))) == []
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "proposed playbook AUC" in table.stdout


def test_a_history_needs_its_target_column(tmp_path: Path) -> None:
    export = crm_export(tmp_path / "crm.csv", 50)
    result = CliRunner().invoke(app, ["tune", "--history", str(export)])
    assert result.exit_code == 1 and "--history needs --target COLUMN" in result.stderr


def test_tune_on_the_database_needs_outcomes_and_says_so(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert runner.invoke(app, ["--db", url, "init", "--playbook", str(B2B)]).exit_code == 0
    result = runner.invoke(app, ["--db", url, "tune", "--json"])
    assert result.exit_code == 1 and "0 converted and 0 not: at least 30 of each" in result.stderr
    trained = runner.invoke(app, ["--db", url, "model", "train"])
    assert trained.exit_code == 1 and "keep the playbook's rules" in trained.stderr


def test_write_into_a_missing_folder_is_refused_before_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadflow.services import tuning

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the history was analysed before --write was checked")

    monkeypatch.setattr(tuning, "tune_history", never)
    export = crm_export(tmp_path / "crm.csv", 50)
    args = ["tune", "--history", str(export), "--target", "Closed Won", "--write"]
    missing = tmp_path / "nonexistent" / "dir"
    result = CliRunner().invoke(app, [*args, str(missing / "p.yaml")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr == f"error: {missing}: no such folder\n"
    folder = CliRunner().invoke(app, [*args, str(tmp_path)])
    assert folder.exit_code == 1
    assert f"error: {tmp_path}: a folder; give the file's name" in folder.stderr
