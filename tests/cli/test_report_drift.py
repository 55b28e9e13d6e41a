"""`leadflow report drift`: the verdict and the deciles as a table, and as JSON."""

from __future__ import annotations

from leadflow.models.db import make_engine, make_session_factory
from tests.cli.conftest import Run, as_json
from tests.services.drift_history import close_november, trained_model


def test_report_drift_as_table_and_json(initialised: Run, database_url: str) -> None:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session, session.begin():
        trained_model(session)
        close_november(session, {"partner": 35, "ads": 20})
    engine.dispose()
    shown = initialised("report", "drift", "--period", "2026-11")
    assert shown.exit_code == 0, shown.output
    assert "Calibration drift of the served model" in shown.stdout
    assert "Predictions run 22 points high since 2026-11-01" in " ".join(shown.stdout.split())
    assert "status: drifted" in shown.stdout and "validation ece: " in shown.stdout
    result = as_json(initialised("report", "drift", "--period", "2026-11", "--json"))
    assert (result["status"], result["outcomes"], result["actual"]) == ("drifted", 200, 0.275)
    empty = as_json(initialised("report", "drift", "--period", "2026-09", "--json"))
    assert empty["status"] == "too_few" and "after this period" in empty["verdict"]
