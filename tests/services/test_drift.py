"""The drift report on both engines: a model that predicted its validation well, then November's
outcomes that agree with it, or go against it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models import Lead
from leadflow.repositories import events as event_repo
from leadflow.services import pipeline, playbooks, reports
from leadflow.services.reports import Options
from tests.services.drift_history import B2B, close_november, trained_model

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def drift(session: Session, **options: Any) -> dict[str, Any]:
    book = playbooks.active_playbook(session)
    return reports.run(session, book, "drift", Cohort(), Options(**options), NOW)


def test_outcomes_that_agree_with_the_model_are_no_drift(session: Session) -> None:
    served = trained_model(session)
    close_november(session, {"partner": 80, "ads": 20})
    result = drift(session)
    assert result["status"] == "calibrated", result["verdict"]
    assert result["verdict"].startswith("Predictions still match outcomes since 2026-11-01: ")
    assert result["model"]["version"] == served.version
    assert (result["outcomes"], result["other_model"], result["actual"]) == (200, 0, 0.5)
    assert abs(result["gap"]) < 0.05 and result["ece"] < 0.05
    # the validation side: the model's own figures, in the same deciles
    validation = served.metrics["calibration"]
    assert result["validation_outcomes"] == sum(r["n"] for r in validation) == 60
    by_decile = {r["decile"]: r for r in result["rows"]}
    for row in validation:
        assert by_decile[row["decile"]]["validation_leads"] == row["n"]
    assert sum(r["leads"] for r in result["rows"]) == 200


def test_outcomes_against_the_predictions_show_the_drift_and_say_retrain(
    session: Session,
) -> None:
    trained_model(session)
    close_november(session, {"partner": 35, "ads": 20})  # partners were promised about 80%
    result = drift(session)
    assert result["status"] == "drifted"
    assert result["actual"] == 0.275 and result["predicted"] > 0.45
    points = round(result["gap"] * 100)
    assert result["verdict"] == (
        f"Predictions run {points} points high since 2026-11-01: predicted "
        f"{round(result['predicted'] * 100)}% on average, 28% won (200 leads). "
        "Retrain: leadflow model train."
    )
    top = max(result["rows"], key=lambda r: r["predicted"] or 0.0)
    assert top["leads"] == 100 and top["actual"] == 0.35 and top["gap"] > 0.35
    assert top["validation_actual"] is not None and abs(
        top["validation_actual"] - top["validation_predicted"]) < 0.1  # fmt: skip
    assert result["ece"] > result["validation_ece"] + 0.1


def test_a_closed_lead_keeps_the_probability_it_had_at_its_outcome(session: Session) -> None:
    trained_model(session)
    close_november(session, {"partner": 35, "ads": 20})
    before = drift(session)
    lead = session.scalars(select(Lead).where(Lead.email == "n0-partner@drift.example")).one()
    kept = lead.probability
    for n in range(5):  # the lead comes back and reads: live scoring does not re-predict it
        event_repo.insert(session, lead_id=lead.id, source="test", message_id=f"d{n}",
                          type="page", properties={"path": "/pricing"}, context={},
                          occurred_at=NOW)  # fmt: skip
    pipeline.run_live(session, playbooks.active_playbook(session), [lead.id], NOW, cause="test")
    assert lead.probability == kept
    assert drift(session)["rows"] == before["rows"]


def test_only_this_models_predictions_in_the_period_count(session: Session) -> None:
    trained_model(session)
    close_november(session, {"partner": 80, "ads": 20})
    # a lead an earlier model scored (another base), one never scored: both closed in November
    for email, contributions in (("old@drift.example", {"base": 3.0, "contributions": {}}),
                                 ("none@drift.example", None)):  # fmt: skip
        session.add(Lead(email=email, stage="customer", outcome="won", closed_at=NOW,
                         probability=0.9 if contributions else None,
                         probability_contributions=contributions))  # fmt: skip
    session.flush()
    result = drift(session)
    assert (result["outcomes"], result["other_model"]) == (200, 1)
    # October: the model's own training outcomes, before it was trained: none of them
    october = drift(session, period="2026-10")
    assert october["status"] == "too_few" and october["rows"]  # the validation side stays
    assert october["verdict"].startswith("Model version 1 was trained on 2026-11-01, after")
    assert all(r["leads"] == 0 for r in october["rows"])
    source = reports.run(session, playbooks.active_playbook(session), "drift",
                         Cohort(source="ads"), Options(), NOW)  # fmt: skip
    assert source["outcomes"] == 100 and source["status"] == "calibrated"


def test_no_model_or_too_few_outcomes_say_so(session: Session) -> None:
    playbooks.install(session, B2B.read_text(), author="test", now=NOW)
    none = drift(session)
    assert (none["status"], none["rows"]) == ("no_model", [])
    assert none["verdict"].startswith("No model is serving predictions yet")
    trained_model(session)
    close_november(session, {"partner": 10, "ads": 0}, leads=14)  # 28 outcomes: 71% against 50%
    few = drift(session)
    assert (few["status"], few["outcomes"]) == ("too_few", 28)
    assert few["verdict"] == ("28 outcomes since 2026-11-01 with this model's prediction: at "
                              "least 30 are needed to judge its calibration.")  # fmt: skip


def test_a_model_trained_but_not_served_is_named_with_why(session: Session) -> None:
    """Enough outcomes to train, but the model ranked worse than the playbook (as in the
    demo): the card says so instead of asking for outcomes the company already has."""
    trained = trained_model(session)
    refused = "not served: it ranks worse than the active playbook's score out of sample"
    trained.active = False
    trained.metrics = {**trained.metrics, "served": False, "decision": refused}
    session.flush()
    result = drift(session)
    assert (result["status"], result["rows"]) == ("no_model", [])
    assert "needs 30 won" not in result["verdict"]
    assert result["verdict"] == (f"No model is serving predictions: version {trained.version}, "
                                 f"the latest trained, was {refused}.")  # fmt: skip
