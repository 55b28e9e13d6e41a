"""`leadflow model train|list`: which kind won, whether it is served, every version kept."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from leadflow.cli.main import app
from leadflow.models.db import make_engine, make_session_factory, upgrade
from leadflow.services import playbooks
from tests.services.test_learning import NOW, PLAYBOOK, add_leads


def test_train_names_the_kind_and_refuses_one_worse_than_the_playbook(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as db, db.begin():
        playbooks.install(db, PLAYBOOK, author="test", now=NOW)
        add_leads(db, 300, seed=3, budget_decides=True)  # only the playbook sees the budget
    engine.dispose()
    runner = CliRunner()
    trained = runner.invoke(app, ["--db", url, "model", "train"])
    assert trained.exit_code == 0, trained.output
    assert "the better of the two out of sample" in trained.stdout
    assert "not served: it ranks worse than the active playbook's score" in trained.stdout
    listed = runner.invoke(app, ["--db", url, "model", "list"])
    assert listed.exit_code == 0
    assert "logistic" in listed.stdout or "gradient" in listed.stdout  # its kind, inactive
