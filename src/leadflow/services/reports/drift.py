"""Calibration drift: does the served model still predict what happens?

The leads won or lost in the period since the active model was trained, by decile of the
probability they carried when their outcome was recorded (a closed lead's probability is never
refreshed, see `repositories/predicted_outcomes.py`), beside the same deciles from the model's
own validation. Only predictions this model made count: a lead last scored by an earlier
model is left out, and counted as such.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core import calibration as cal
from leadflow.core.report_math import SMALL_SAMPLE, Cohort
from leadflow.models.prediction import PredictiveModel
from leadflow.repositories import predicted_outcomes
from leadflow.services import prediction
from leadflow.services.reports.base import table

COLUMNS = ["decile", "probability", "leads", "won", "predicted", "actual", "gap",
           "small_sample", "validation_leads", "validation_predicted",
           "validation_actual"]  # fmt: skip
DEFINITION = (
    "Leads won or lost in the period (default: this month), counted from when the active "
    "model was trained, by decile of the probability it gave them before their outcome was "
    "recorded (decile 7 = 60-70%). predicted = the mean probability, actual = the share won, "
    "gap = predicted - actual (above 0: the model promised more than happened). The "
    "validation columns are the same deciles on the leads the model was tested on before it "
    "was served. ece = expected calibration error, the leads-weighted mean |gap| over the "
    "deciles; z = the overall gap in standard errors, were the predictions right. Drift is "
    f"called at a gap of {cal.OVERALL_GAP * 100:g} points or more and |z| >= {cal.OVERALL_Z:g} "
    f"overall, or in a decile of {cal.DECILE_LEADS}+ leads at {cal.DECILE_GAP * 100:g} points "
    f"and |z| >= {cal.DECILE_Z:g}; under {cal.MIN_OUTCOMES} outcomes nothing is judged. "
    "other_model: leads in the period whose probability an earlier model made (left out)."
)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _no_model(latest: PredictiveModel | None) -> str:
    """Why nothing is served: never trained, or trained and refused (it ranked worse than the
    playbook's score, say), which more won and lost leads would not change by themselves."""
    decision = str((latest.metrics or {}).get("decision") or "") if latest else ""
    if latest is not None and decision.startswith("not served"):
        return (f"No model is serving predictions: version {latest.version}, the latest "
                f"trained, was {decision}.")  # fmt: skip
    return ("No model is serving predictions yet: leadflow model train makes one (it needs 30 "
            "won and 30 lost leads).")  # fmt: skip


def drift(session: Session, cohort: Cohort, start: datetime, end: datetime) -> dict[str, Any]:
    """Predicted against actual win rate by decile, now and at validation, with a verdict."""
    model = prediction.active_or_none(session)
    if model is None:
        return _report(cohort, [], status="no_model", model=None,
                       verdict=_no_model(prediction.latest_or_none(session)))  # fmt: skip
    since = max(start, model.created_at)
    filters = replace(cohort, since=None, until=None)  # the period is the outcomes'
    p, won, bases = predicted_outcomes.closed_between(session, filters, since, end)
    mine = cal.from_model(bases, prediction.base_of(model))
    now_bins = cal.bins(p[mine], won[mine])
    validation = cal.stored_bins(model.metrics.get("calibration") or [])
    verdict = _verdict(now_bins, since, end, model)
    total, tested = cal.overall(now_bins), cal.overall(validation)
    return _report(
        cohort, _rows(now_bins, validation), status=verdict.status, verdict=verdict.text,
        model=_about(model), since=since.isoformat(), until=end.isoformat(),
        outcomes=total.leads if total else 0, other_model=int((~mine).sum()),
        predicted=_r(total.predicted if total else None),
        actual=_r(total.actual if total else None), gap=_r(total.gap if total else None),
        z=_r(total.z if total else None), ece=_r(cal.expected_calibration_error(now_bins)),
        validation_outcomes=tested.leads if tested else 0,
        validation_predicted=_r(tested.predicted if tested else None),
        validation_actual=_r(tested.actual if tested else None),
        validation_ece=_r(cal.expected_calibration_error(validation)),
    )  # fmt: skip


def _verdict(found: list[cal.Bin], since: datetime, end: datetime, model: PredictiveModel
             ) -> cal.Verdict:  # fmt: skip
    if since >= end:
        return cal.Verdict("too_few", f"Model version {model.version} was trained on "
                           f"{model.created_at.date()}, after this period: none of its "
                           "outcomes were predicted by it.")  # fmt: skip
    return cal.verdict(found, since.date().isoformat())


def _about(model: PredictiveModel) -> dict[str, Any]:
    return {"version": model.version, "kind": model.kind,
            "trained_at": model.created_at.isoformat()}  # fmt: skip


def _rows(now: list[cal.Bin], validation: list[cal.Bin]) -> list[dict[str, Any]]:
    """One row per decile either side has, both sides side by side."""
    here = {b.decile: b for b in now}
    then = {b.decile: b for b in validation}
    rows = []
    for decile in sorted(here.keys() | then.keys()):
        b, v = here.get(decile), then.get(decile)
        rows.append({
            "decile": decile, "probability": cal.decile_label(decile),
            "leads": b.leads if b else 0, "won": int(b.won) if b else 0,
            "predicted": _r(b.predicted) if b else None, "actual": _r(b.actual) if b else None,
            "gap": _r(b.gap) if b else None,
            "small_sample": (b.leads if b else 0) < SMALL_SAMPLE,
            "validation_leads": v.leads if v else 0,
            "validation_predicted": _r(v.predicted) if v else None,
            "validation_actual": _r(v.actual) if v else None,
        })  # fmt: skip
    return rows


def _report(cohort: Cohort, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return table("drift", "Calibration drift of the served model", DEFINITION, cohort,
                 COLUMNS, rows, **extra)  # fmt: skip
