"""Serving a stored model: the probability comes from the model given, never from another,
and refreshing it as an event arrives costs the same whatever the lead's past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from leadflow.models import Event, Lead, PredictiveModel
from leadflow.repositories import events as event_repo
from leadflow.repositories import predictive_models as model_repo
from leadflow.services import learners, pipeline, playbooks, prediction
from leadflow.services.importing import import_events
from leadflow.services.lead_edits import create_lead

B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

BASE = {"country": "US", "source": "google", "industry": "Software", "tier": None,
        "employees": "120", "annual_revenue": None, "has_company": "yes"}  # fmt: skip


def _boosted(buyer: str, behaviours: list[str] | None = None) -> PredictiveModel:
    """Model id 1 (as in every fresh database) where `buyer` titles buy and others do not
    (and, with `behaviours`, leads who did them more)."""
    titles = ["VP Operations", "Intern"] * 60
    kinds = behaviours or []
    counts = [(n, kind, n % 7) for n in range(len(titles)) for kind in kinds]
    columns = prediction.columns_for(
        [{**BASE, "id": n, "title": t} for n, t in enumerate(titles)], counts, kinds
    )
    y = np.array([1 if t == buyer else 0 for t in titles], dtype=np.int64)
    y[:6] = 1 - y[:6]  # not a perfect split: the model still has a slope to learn
    if kinds:
        y = np.where(np.arange(y.size) % 7 > 3, 1, y)
    trees = learners.fit_boosted(columns, y, np.arange(y.size))
    return PredictiveModel(id=1, version=1, kind=prediction.BOOSTED, bins=[], weights=[],
                           intercept=0.0, behaviours=kinds, metrics={}, trees=trees)  # fmt: skip


def _chance(model: PredictiveModel, title: str) -> float:
    columns = prediction.columns_for([{**BASE, "id": 0, "title": title}], [], [])
    [found] = prediction.explain(model, columns)
    return found.probability


def test_two_databases_with_the_same_model_id_each_serve_their_own_model() -> None:
    # One process can serve several databases (tests, a restore, a second company); their
    # first models share id 1 and must not share trees.
    seniors_buy, juniors_buy = _boosted("VP Operations"), _boosted("Intern")
    assert _chance(seniors_buy, "VP Operations") > _chance(seniors_buy, "Intern")
    assert _chance(juniors_buy, "Intern") > _chance(juniors_buy, "VP Operations")


def test_a_model_stored_before_digests_is_still_served_from_its_own_trees() -> None:
    model = _boosted("Intern")
    expected = _chance(model, "Intern")
    assert model.trees is not None
    model.trees = {k: v for k, v in model.trees.items() if k != "digest"}
    assert _chance(model, "Intern") == expected


def test_an_event_refreshes_the_probability_without_reading_the_leads_past(
    session: Session,
) -> None:
    """With a model active, each event's refresh counts the lead's behaviour in the database
    (one grouped query) instead of loading its whole history as objects."""
    playbooks.install(session, B2B.read_text(), author="test", now=NOW)
    book = playbooks.active_playbook(session)
    model = _boosted("VP Operations", ["page /pricing", "event Webinar Attended"])
    model.id = None  # type: ignore[assignment]
    model_repo.add(session, model, active=True)
    lead = create_lead(session, book, {"email": "ann@unlisted-co.io", "title": "Intern"}, now=NOW)
    rows = [
        {
            "lead_id": lead.id,
            "source": "test",
            "message_id": f"m{n}",
            "type": "page",
            "name": None,
            "properties": {"path": "/pricing"},
            "context": {},
            "occurred_at": NOW - timedelta(hours=n),
            "received_at": NOW,
        }
        for n in range(40)
    ]
    event_repo.insert_new(session, rows)
    session.expunge_all()
    loaded: list[Event] = []

    def count(target: Event, _: object) -> None:
        loaded.append(target)

    sa_event.listen(Event, "load", count)
    try:
        pipeline.run_live(session, book, [lead.id], NOW, cause="test")
    finally:
        sa_event.remove(Event, "load", count)
    assert len(loaded) == 0  # the lead's past was counted in SQL, not read
    found = session.get(Lead, lead.id)
    assert found is not None
    row = prediction.lead_row(found, None)
    columns = prediction.columns_for([row], [(lead.id, "page /pricing", 40)], model.behaviours)
    [want] = prediction.explain(model, columns)
    assert found.probability == round(want.probability, 4)
    assert "page /pricing" in str(found.probability_contributions)


def _scorecard(bins: list[dict[str, object]], weights: list[float]) -> PredictiveModel:
    return PredictiveModel(id=1, version=1, kind=prediction.SCORECARD, bins=bins,
                           weights=weights, intercept=-1.25, behaviours=["page /pricing"],
                           metrics={}, trees=None)  # fmt: skip


def _explained(model: PredictiveModel, title: str, pricing: int) -> prediction.Explanation:
    row = {**BASE, "id": 0, "title": title}
    columns = prediction.columns_for([row], [(0, "page /pricing", pricing)], model.behaviours)
    [found] = prediction.explain(model, columns)
    return found


def test_a_scorecard_stored_before_words_and_counts_is_served_as_it_was() -> None:
    # As `model train` stored scorecards until it binned as `tune` does: a range or a value.
    old = _scorecard([{"column": "title", "low": None, "high": None, "value": "Intern"},
                      {"column": "page /pricing", "low": 2.0, "high": None, "value": None},
                      {"column": "employees", "low": 100.0, "high": 500.0, "value": None}],
                     [-0.75, 0.5, 0.25])  # fmt: skip
    found = _explained(old, "intern", 3)
    assert found.contributions == {"title is Intern": -0.75, "page /pricing 2 or more": 0.5,
                                   "employees 100 to 500": 0.25}  # fmt: skip
    assert found.log_odds == -1.25
    assert _explained(old, "CEO", 1).log_odds == -1.25 + 0.25


def test_a_scorecard_with_words_blanks_and_capped_counts_adds_up_exactly() -> None:
    model = _scorecard([{"column": "title", "low": None, "high": None, "value": None,
                         "word": "VP"},
                        {"column": "tier", "low": None, "high": None, "value": None,
                         "blank": True},
                        {"column": "page /pricing", "low": None, "high": None, "value": None,
                         "cap": 4.0}],
                       [0.625, -0.125, 0.25])  # fmt: skip
    found = _explained(model, "vp of Sales", 9)
    assert found.contributions == {"title has the word VP": 0.625, "tier is blank": -0.125,
                                   "page /pricing (each time, up to 4)": 1.0}  # fmt: skip
    assert found.log_odds == found.base + sum(found.contributions.values()) == -1.25 + 1.5
    assert _explained(model, "Intern", 2).contributions["page /pricing (each time, up to 4)"] == 0.5


PROBABLE = """
name: Probable
fit:
  rules:
    - {id: likely, label: Likely to buy, points: 30, when: {field: probability, gte: 0.5}}
"""


def test_an_import_gives_the_probability_and_fit_live_scoring_gives_the_same_history(
    session: Session,
) -> None:
    """With a model serving that counts pricing pages, an intern's six imported pricing pages
    give him the probability (and the fit a rule on it adds) that scoring the same stored
    history live gives: the bulk path reads the same facts as the live one."""
    playbooks.install(session, PROBABLE, author="test", now=NOW)
    book = playbooks.active_playbook(session)
    model = _boosted("VP Operations", ["page /pricing"])
    model.id = None  # type: ignore[assignment]
    model_repo.add(session, model, active=True)
    lead = create_lead(session, book, {"email": "bo@unlisted-co.io", "title": "Intern"}, now=NOW)
    rows = [{"email": "bo@unlisted-co.io", "type": "page", "properties": {"path": "/pricing"},
             "timestamp": (NOW - timedelta(hours=n)).isoformat()} for n in range(6)]  # fmt: skip
    report = import_events(session, enumerate(rows, 2), skip_invalid=False, now=NOW)

    pipeline.run_import(session, book, report, NOW, actor="import")

    imported = _scored(session, lead.id)
    pipeline.run_live(session, book, [lead.id], NOW, cause="edit")
    assert imported == _scored(session, lead.id)


def _scored(session: Session, lead_id: int) -> tuple[object, ...]:
    session.flush()
    session.expire_all()
    lead = session.get(Lead, lead_id)
    assert lead is not None
    return lead.probability, lead.fit, lead.total, lead.grade
