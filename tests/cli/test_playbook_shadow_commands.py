"""`leadflow playbook shadow|compare|promote` and `apply --dry-run --backtest`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.lead import Lead
from leadflow.services import playbooks
from leadflow.services.pipeline import run_live
from tests.cli.conftest import B2B, Run, as_json


def _candidate(tmp_path: Path) -> Path:
    text = B2B.read_text()
    lower = text.replace("{field: fit, gte: 40}", "{field: fit, gte: 0}")
    assert lower != text
    path = tmp_path / "candidate.yaml"
    path.write_text(lower.replace("{field: engagement, gte: 30}", "{field: engagement, gte: 0}"))
    return path


def _events(tmp_path: Path, n: int) -> Path:
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    lines = []
    for k in range(n):
        who = {"email": f"p{k}@acme{k}.io"}
        lines.append({**who, "type": "identify", "timestamp": f"{day}T10:00:00Z",
                      "properties": {"title": "VP Operations"}})  # fmt: skip
        lines.append({**who, "type": "page", "timestamp": f"{day}T10:05:00Z",
                      "properties": {"path": "/pricing"}})  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_backtest_needs_dry_run_and_prints_both_sides(initialised: Run, tmp_path: Path) -> None:
    candidate = _candidate(tmp_path)
    refused = initialised("playbook", "apply", str(candidate), "--backtest")
    assert refused.exit_code == 1 and "--backtest needs --dry-run" in refused.stderr
    assert initialised("import", "events", str(_events(tmp_path, 3))).exit_code == 0
    shown = initialised("playbook", "apply", str(candidate), "--dry-run", "--backtest")
    assert shown.exit_code == 0, shown.output
    assert "on history: 3 leads" in shown.stdout and "ROC-AUC" in shown.stdout
    figures = as_json(
        initialised("playbook", "apply", str(candidate), "--dry-run", "--backtest", "--json")
    )
    assert figures["leads"] == 3 and figures["candidate"]["mqls"] == 3
    assert "version 1 " in initialised("playbook", "show").stdout  # nothing applied


def _edit_every_lead(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            ids = list(session.scalars(select(Lead.id)))
            book = playbooks.active_playbook(session)
            run_live(session, book, ids, datetime.now(UTC), cause="edit")
    finally:
        engine.dispose()


def test_shadow_compare_promote(initialised: Run, tmp_path: Path, database_url: str) -> None:
    missing = initialised("playbook", "compare")
    assert missing.exit_code == 1 and "leadflow playbook shadow FILE" in missing.stderr
    started = initialised("playbook", "shadow", str(_candidate(tmp_path)))
    assert started.exit_code == 0 and "version 2 now runs in the shadow" in started.stdout
    assert initialised("import", "events", str(_events(tmp_path, 2))).exit_code == 0
    assert as_json(initialised("playbook", "compare", "--json"))["leads"] == 0  # imports: bulk
    _edit_every_lead(database_url)  # a live edit: the shadow scores it too
    figures = as_json(initialised("playbook", "compare", "--json"))
    assert figures["mode"] == "shadow" and figures["leads"] == 2
    assert figures["candidate"]["mqls"] == 2
    text = initialised("playbook", "compare")
    assert text.exit_code == 0 and "MQLs won" in text.stdout
    preview = initialised("playbook", "promote", "--dry-run")
    assert preview.exit_code == 0 and "dry run: nothing changed" in preview.stdout
    assert "+      - {field: fit, gte: 0}" in preview.stdout
    promoted = initialised("playbook", "promote")
    assert promoted.exit_code == 0 and "applied as version 2" in promoted.stdout
    assert initialised("playbook", "promote").exit_code == 1  # no shadow any more


def test_shadow_refuses_a_bad_file_and_the_active_playbook(
    initialised: Run, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfit: 3\n")
    refused = initialised("playbook", "shadow", str(bad))
    assert refused.exit_code == 1 and "not a valid playbook" in refused.stderr
    same = initialised("playbook", "shadow", str(B2B))
    assert same.exit_code == 1 and "active one" in same.stderr
    assert initialised("playbook", "shadow").exit_code == 1
    assert "Traceback" not in refused.output + same.output
    stop = initialised("playbook", "shadow", "--stop")
    assert stop.exit_code == 1 and "no playbook runs in the shadow" in stop.stderr
