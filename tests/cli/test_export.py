"""`leadflow export leads` and the lead_scores view a CRM sync reads, on both engines."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from leadflow.models.db import make_engine
from leadflow.models.lead_scores import VIEW_COLUMNS
from tests.cli.conftest import Run

HUBSPOT = (
    "Record ID,First Name,Email,Job Title,Company Domain Name\n"
    "501,Olivia,olivia@northwind-logistics.com,VP Operations,northwind-logistics.com\n"
    "502,Sam,sam@uni.edu,Student,\n"
)
SALESFORCE = (
    "Lead ID,Email,Title\n00Q5e000001AbCdEAK,olivia@northwind-logistics.com,VP Operations\n"
)


def _rows(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output)))


def _import(run: Run, path: Path, text_: str, kind: str = "leads") -> None:
    path.write_text(text_)
    result = run("import", kind, str(path))
    assert result.exit_code == 0, result.output


def test_export_carries_crm_ids_scores_and_owner(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "hubspot.csv", HUBSPOT)
    _import(initialised, tmp_path / "salesforce.csv", SALESFORCE)
    result = initialised("export", "leads")
    assert result.exit_code == 0, result.output
    assert "exported 2 leads" in result.stderr
    rows = {row["email"]: row for row in _rows(result.stdout)}
    assert list(_rows(result.stdout)[0]) == list(VIEW_COLUMNS)
    olivia = rows["olivia@northwind-logistics.com"]
    assert olivia["hubspot_id"] == "501"
    assert olivia["salesforce_id"] == "00Q5e000001AbCdEAK"
    assert olivia["account_domain"] == "northwind-logistics.com"
    assert float(olivia["fit"]) > 0 and olivia["grade"]
    assert rows["sam@uni.edu"]["salesforce_id"] == ""


def test_since_gives_only_the_leads_that_changed(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "hubspot.csv", HUBSPOT)
    time.sleep(0.01)
    mark = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    event = {
        "email": "sam@uni.edu",
        "type": "page",
        "timestamp": f"{day}T10:00:00Z",
        "properties": {"path": "/pricing"},
    }
    _import(initialised, tmp_path / "events.jsonl", json.dumps(event) + "\n", kind="events")
    result = initialised("export", "leads", "--since", mark, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    changed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["email"] for row in changed] == ["sam@uni.edu"]
    assert changed[0]["updated_at"] >= mark
    assert changed[0]["engagement"] > 0


def test_rescore_moves_updated_at(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "hubspot.csv", HUBSPOT)
    time.sleep(0.01)
    mark = datetime.now(UTC).isoformat()
    assert initialised("export", "leads", "--since", mark).stderr.strip() == "exported 0 leads"
    assert initialised("rescore").exit_code == 0
    assert len(_rows(initialised("export", "leads", "--since", mark).stdout)) == 2


def test_reimport_moves_a_record_id_to_its_new_person(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "first.csv", HUBSPOT)
    _import(
        initialised, tmp_path / "second.csv", "Record ID,Email\n501,new@northwind-logistics.com\n"
    )
    rows = {row["email"]: row for row in _rows(initialised("export", "leads").stdout)}
    assert rows["new@northwind-logistics.com"]["hubspot_id"] == "501"
    assert rows["olivia@northwind-logistics.com"]["hubspot_id"] == ""


def test_the_view_is_plain_sql(initialised: Run, tmp_path: Path, database_url: str) -> None:
    _import(initialised, tmp_path / "hubspot.csv", HUBSPOT)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            result = connection.execute(text("SELECT * FROM lead_scores ORDER BY email"))
            assert list(result.keys()) == list(VIEW_COLUMNS)
            assert [row.email for row in result] == [
                "olivia@northwind-logistics.com",
                "sam@uni.edu",
            ]
    finally:
        engine.dispose()


def test_formula_cells_are_neutralised(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "odd.csv", "Email\n=cmd@acme.com\n")
    rows = _rows(initialised("export", "leads").stdout)
    assert rows[0]["email"] == "'=cmd@acme.com"


def test_file_output_and_bad_options(initialised: Run, tmp_path: Path) -> None:
    _import(initialised, tmp_path / "hubspot.csv", HUBSPOT)
    target = tmp_path / "out.jsonl"
    result = initialised("export", "leads", "--format", "jsonl", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert len(target.read_text().splitlines()) == 2
    bad = initialised("export", "leads", "--since", "last week")
    assert bad.exit_code == 1
    assert "--since: 'last week' is not a date or time" in bad.stderr
    nowhere = tmp_path / "missing" / "out.csv"
    failed = initialised("export", "leads", "--output", str(nowhere))
    assert failed.exit_code == 1
    assert "--output: cannot write" in failed.stderr
    assert not nowhere.parent.exists()
