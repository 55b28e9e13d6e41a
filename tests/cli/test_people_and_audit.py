"""`leadflow people erase|export` and `leadflow audit` (both engines)."""

from __future__ import annotations

import json

from sqlalchemy import select

from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.lead import Lead
from tests.cli.conftest import Run, as_json


def _import_lead(run: Run, tmp_path: object, email: str) -> None:
    path = tmp_path / "leads.csv"  # type: ignore[operator]
    path.write_text(f"email,first_name,last_name\n{email},Wanda,Pemberton-Crisp\n")
    result = run("import", "leads", str(path))
    assert result.exit_code == 0, result.output


def test_export_then_erase_from_the_command_line(
    initialised: Run, tmp_path: object, database_url: str
) -> None:
    _import_lead(initialised, tmp_path, "wanda@crisp-test.io")
    exported = as_json(initialised("people", "export", "wanda@crisp-test.io", "--actor", "dpo"))
    assert exported["lead"]["last_name"] == "Pemberton-Crisp"
    unconfirmed = initialised("people", "erase", "wanda@crisp-test.io")  # no --yes, no answer
    assert unconfirmed.exit_code == 1 and "erased" not in unconfirmed.stdout
    assert as_json(initialised("people", "export", "wanda@crisp-test.io"))["lead"]["id"]
    erased = initialised("people", "erase", "wanda@crisp-test.io", "--yes", "--actor", "dpo")
    assert erased.exit_code == 0, erased.output
    assert "erased wanda@crisp-test.io: 1 lead" in erased.stdout
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(Lead).where(Lead.email == "wanda@crisp-test.io")) is None
    engine.dispose()
    again = tmp_path / "again.csv"  # type: ignore[operator]
    again.write_text("email,first_name\nwanda@crisp-test.io,Wanda\nolga@crisp-test.io,Olga\n")
    reimported = initialised("import", "leads", str(again))
    assert reimported.exit_code == 0, reimported.output
    assert "imported 1 lead from" in reimported.stdout
    assert "(1 row of erased or do-not-track people skipped)" in reimported.stdout
    events = tmp_path / "events.jsonl"  # type: ignore[operator]
    line = {"email": "wanda@crisp-test.io", "type": "track", "name": "Signed Up",
            "timestamp": "2026-11-01T10:00:00Z"}  # fmt: skip
    events.write_text(json.dumps(line) + "\n")
    assert "(1 row of erased" in initialised("import", "events", str(events)).stdout
    missing = initialised("people", "export", "wanda@crisp-test.io")
    assert missing.exit_code == 1 and "no person" in missing.stderr
    log = as_json(initialised("audit", "--json", "--actor", "dpo"))
    assert [e["action"] for e in log] == ["people.erase", "people.export"]  # by dpo only
    assert "wanda" not in json.dumps(log).lower() and "crisp" not in json.dumps(log).lower()


def test_audit_lists_key_changes_without_the_key(initialised: Run) -> None:
    created = initialised("keys", "create", "--role", "sales", "--name", "crm")
    secret = created.stdout.strip().splitlines()[-1]
    assert initialised("keys", "revoke", "1").exit_code == 0
    log = as_json(initialised("audit", "--json", "--since", "1"))
    actions = [e["action"] for e in log]
    assert actions[:2] == ["key.revoke", "key.create"] and "playbook.install" in actions
    assert secret not in json.dumps(log)
    table = initialised("audit", "--action", "key.")
    assert table.exit_code == 0 and "key.create" in table.stdout
    assert "playbook.install" not in table.stdout
