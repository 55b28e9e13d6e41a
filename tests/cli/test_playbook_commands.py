"""`leadflow playbook validate|schema|apply|show` and `leadflow init`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leadflow.cli.main import app
from tests.cli.conftest import B2B, ROOT, Run

runner = CliRunner()


def test_validate_accepts_both_examples() -> None:
    for name in ("b2b_saas.yaml", "b2c_chairs.yaml"):
        result = runner.invoke(app, ["playbook", "validate", str(ROOT / "examples" / name)])
        assert result.exit_code == 0, result.output
        assert "valid" in result.output


def test_validate_names_each_error_with_path_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: broken\n"
        "tiers:\n"
        "  - id: top\n"
        "    max_accounts: 1\n"
        "    domains: [a.com, b.com]\n"
        "fit:\n"
        "  rules:\n"
        "    - id: r1\n"
        "      label: bad regex\n"
        "      points: 5\n"
        "      when: {field: title, regex: '('}\n"
    )
    result = runner.invoke(app, ["playbook", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: tiers[0]: tier 'top' lists 2 accounts" in result.stderr
    assert f"{bad}:11: fit.rules[0].when: invalid regex" in result.stderr
    assert "2 problems" in result.stderr
    assert "Traceback" not in result.output


def test_validate_says_which_custom_attributes_to_declare(tmp_path: Path) -> None:
    bad = tmp_path / "undeclared.yaml"
    bad.write_text(
        "name: undeclared\n"
        "fit:\n"
        "  rules:\n"
        "    - {id: budget, label: Budget, points: 5, when: {field: budget, gte: 500}}\n"
    )
    result = runner.invoke(app, ["playbook", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:4: fit.rules[0].when.field: unknown field 'budget'" in result.stderr
    assert "custom_fields: [budget]" in result.stderr


def test_validate_names_a_value_yaml_cannot_read_by_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: dates\nlifecycle:\n  since: 2027-13-45\n")
    result = runner.invoke(app, ["playbook", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: lifecycle.since: '2027-13-45' is not a date" in result.stderr
    assert "Traceback" not in result.output


def test_validate_names_broken_yaml_in_one_line(tmp_path: Path) -> None:
    """PyYAML's own message (a snippet, a caret, `in "<unicode string>"`) took five lines."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npersonas:\n  - id: a\n    name: Operations: Olivia\n")
    result = runner.invoke(app, ["playbook", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines == [
        f"{bad}:4: (top): not valid YAML at column 21: mapping values are not allowed here "
        "(quote a value that holds ': ', or check the indentation)",
        f"error: {bad} is not a valid playbook (1 problem)",
    ], result.stderr


def test_validate_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["playbook", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["playbook", "schema"])
    schema = json.loads(result.stdout)
    assert schema["title"] == "leadflow playbook"
    assert {"personas", "tiers", "fit", "engagement", "lifecycle"} <= set(schema["properties"])


def test_invalid_playbook_never_replaces_the_active_one(initialised: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfit: {rules: [{id: a, label: a, points: 1}]}\n")
    result = initialised("playbook", "apply", str(bad))
    assert result.exit_code == 1
    shown = initialised("playbook", "show")
    assert "version 1 " in shown.stdout
    assert "Flowline B2B SaaS" in shown.stdout


def test_apply_versions_shows_diff_and_dry_run_changes_nothing(
    initialised: Run, tmp_path: Path
) -> None:
    changed = tmp_path / "changed.yaml"
    changed.write_text(B2B.read_text().replace("- {field: fit, gte: 40}", "- {field: fit, gte: 0}"))
    dry = initialised("playbook", "apply", str(changed), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "+      - {field: fit, gte: 0}" in dry.stdout
    assert "dry run: nothing changed" in dry.stdout
    # What it would do, in the conditional: it said "re-scored 0 leads" under "nothing changed".
    assert "would re-score 0 leads" in dry.stdout and "re-scored" not in dry.stdout
    assert "version 1 " in initialised("playbook", "show").stdout
    real = initialised("playbook", "apply", str(changed), "--author", "marketing")
    assert "applied as version 2" in real.stdout
    assert "version 2 by marketing" in initialised("playbook", "show").stdout
    again = initialised("playbook", "apply", str(changed))
    assert "already active" in again.stdout
