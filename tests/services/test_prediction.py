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
