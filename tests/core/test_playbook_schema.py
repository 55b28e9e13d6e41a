"""The playbook's JSON Schema accepts what the parser accepts, as editors use it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from leadflow.core.playbook import json_schema
from leadflow.services.tuning import tune_history
from tests.services.test_tuning import crm_export

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _problems(document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(json_schema())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_follows_the_schema_it_points_to(example: Path) -> None:
    text = example.read_text()
    assert text.startswith("# yaml-language-server: $schema=../playbook.schema.json\n")
    assert _problems(yaml.safe_load(text)) == []


def test_the_committed_schema_file_is_the_current_one() -> None:
    committed = json.loads((ROOT / "playbook.schema.json").read_text())
    assert committed == json_schema(), "regenerate: leadflow playbook schema > playbook.schema.json"


def test_a_tuned_playbook_follows_the_schema(tmp_path: Path) -> None:
    result = tune_history(crm_export(tmp_path / "crm.csv", 400), "Closed Won", ["Email"])
    assert _problems(yaml.safe_load(result["playbook"])) == []
