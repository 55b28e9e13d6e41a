"""Learning that keeps itself honest, on small companies made here: `model train` compares a
scorecard and a boosted forest on the same splits, serves the better only when it ranks no
worse than the active playbook, explains every probability exactly, and the worker retrains on
the playbook's schedule."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core import scorecard
from leadflow.models import Lead
from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.prediction import PredictiveModel
from leadflow.repositories import leads as lead_repo
from leadflow.services import model, pipeline, playbooks, prediction, tuning_db
from tests.conftest import Migrate

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PLAYBOOK = """
name: Small company
custom_fields: [budget]
fit:
  rules:
    - {id: budget, label: Budget approved, points: 40, when: {field: budget, equals: approved}}
    - {id: senior, label: Senior, points: 10, when: {field: title, in: [CEO, VP Sales]}}
lifecycle:
  sales_ready: [sql]
learning: {retrain: weekly, min_new_outcomes: 50}
"""
TITLES = ["CEO", "VP Sales", "Analyst", "Intern", "Engineer", "Manager"]


@pytest.fixture
def session(database_url: str, migrate: Migrate) -> Iterator[Session]:
    migrate(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as db, db.begin():
        playbooks.install(db, PLAYBOOK, author="test", now=NOW)
        yield db
    engine.dispose()


def add_leads(db: Session, count: int, *, seed: int, budget_decides: bool, start: int = 0) -> None:
    """Closed leads (won or lost) and a quarter as many open ones. With `budget_decides` only
    the budget (which the model cannot read) says who buys; else the title does."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(start, start + count):
        title = TITLES[int(rng.integers(0, len(TITLES)))]
        budget = "approved" if rng.random() < 0.4 else "none"
        chance = (0.9 if budget == "approved" else 0.05) if budget_decides else (
            0.8 if title in ("CEO", "VP Sales") else 0.15)  # fmt: skip
        closed = k % 5 != 0
        won = closed and rng.random() < chance
        rows.append({
            "email": f"p{k}@x{k}.example", "title": title, "country": "US",
            "source": ["ads", "seo"][k % 2], "attributes": {"budget": budget},
            "stage": ("customer" if won else "opportunity") if closed else "lead",
            "outcome": ("won" if won else "lost") if closed else None,
            "closed_at": NOW - timedelta(hours=1) if closed else None,
        })  # fmt: skip
    lead_repo.upsert_many(db, rows)


SENIORITY = ["VP", "Director", "Head of", "Intern", "Assistant", "Junior"]
FUNCTIONS = ["Sales", "Marketing", "IT", "Finance", "Operations", "Legal", "HR", "Security"]
REGIONS = ["EMEA", "APAC", "DACH", "Nordics", "US East", "LATAM"]


def add_free_text_titles(db: Session, count: int, seed: int) -> None:
    """Closed leads whose job titles are free text (288 spellings, each seen a few times at
    most) and whose seniority word decides who buys, and a fifth as many open ones."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(count):
        level = SENIORITY[int(rng.integers(0, len(SENIORITY)))]
        title = (f"{level} {FUNCTIONS[int(rng.integers(0, len(FUNCTIONS)))]} "
                 f"{REGIONS[int(rng.integers(0, len(REGIONS)))]}")  # fmt: skip
        closed = k % 5 != 0
        won = closed and rng.random() < (0.7 if level in SENIORITY[:3] else 0.1)
        rows.append({
            "email": f"t{k}@y{k}.example", "title": title, "country": "US",
            "source": ["ads", "seo"][k % 2], "attributes": {"budget": "none"},
            "stage": ("customer" if won else "opportunity") if closed else "lead",
            "outcome": ("won" if won else "lost") if closed else None,
            "closed_at": NOW - timedelta(hours=1) if closed else None,
        })  # fmt: skip
    lead_repo.upsert_many(db, rows)


def test_model_train_serves_the_scorecard_tune_proposes_reading_free_text_by_its_words(
    session: Session,
) -> None:
    # No spelling of a title is common enough to be a bin or a category of its own: only its
    # words carry over. The scorecard tune proposes reads them; model train's must too.
    add_free_text_titles(session, 500, seed=8)
    book = playbooks.active_playbook(session)
    result = model.train(session, book, NOW)
    metrics = result["metrics"]
    assert metrics["scorecard_roc_auc"] > 0.75 > metrics["gbm_roc_auc"]
    assert result["kind"] == prediction.SCORECARD and result["served"]
    served = model.active_model(session)
    tuned = tuning_db.tune(session, book)
    assert tuned["scorecard_auc"] > 0.75
    # The served weights are the proposal's points (tune's rules are the non-zero ones).
    points = {scorecard.from_stored(b).label(): round(w * tuning_db.PER_DOUBLING, 1)
              for b, w in zip(served.bins, served.weights, strict=True)}  # fmt: skip
    proposed = {rule["label"]: rule["points"] for rule in tuned["rules"]}
    assert proposed and proposed == {k: p for k, p in points.items() if p != 0}
    assert proposed["title has the word VP"] > 0 > proposed["title has the word Intern"]
    lead = session.scalars(select(Lead).where(Lead.outcome.is_(None))).first()
    assert lead is not None and lead.probability_contributions is not None
    explained = lead.probability_contributions
    assert any(" has the word " in name for name in explained["contributions"])
    added = explained["base"] + math.fsum(explained["contributions"].values())
    assert added == pytest.approx(explained["log_odds"], abs=1e-12)


def test_the_better_kind_is_served_and_every_probability_adds_up(session: Session) -> None:
    add_leads(session, 300, seed=1, budget_decides=False)
    book = playbooks.active_playbook(session)
    result = model.train(session, book, NOW)
    metrics = result["metrics"]
    aucs = {prediction.SCORECARD: metrics["scorecard_roc_auc"],
            prediction.BOOSTED: metrics["gbm_roc_auc"]}  # fmt: skip
    assert result["kind"] == max(aucs, key=lambda k: aucs[k]) and result["served"]
    assert metrics["roc_auc"] == aucs[result["kind"]] > metrics["playbook_roc_auc"]
    [kept] = model.versions(session)
    assert kept.active and kept.metrics["kind"] == result["kind"]
    open_leads = session.scalars(select(Lead).where(Lead.outcome.is_(None))).all()
    assert open_leads and all(lead.probability is not None for lead in open_leads)
    for lead in open_leads:
        explained = lead.probability_contributions
        assert explained is not None
        added = explained["base"] + math.fsum(explained["contributions"].values())
        assert added == pytest.approx(explained["log_odds"], abs=1e-12)
        assert round(1 / (1 + math.exp(-added)), 4) == lead.probability
        assert 1 <= len(lead.probability_reasons or []) <= 3


def test_the_boosted_model_refreshes_live_from_its_stored_trees(session: Session) -> None:
    add_leads(session, 300, seed=2, budget_decides=False)
    book = playbooks.active_playbook(session)
    stored = model.train(session, book, NOW)
    active = model.active_model(session)
    if active.kind != prediction.BOOSTED:  # make it the boosted kind, whichever won
        trained = model._final(prediction.BOOSTED, *_columns(session, book), {}, NOW)
        active = model.model_repo.add(session, trained, active=True)
    lead = session.scalars(select(Lead).where(Lead.outcome.is_(None))).first()
    assert lead is not None and stored["version"] >= 1
    lead.title = "CEO" if lead.title != "CEO" else "Intern"
    before = lead.probability
    pipeline.run_live(session, book, [lead.id], NOW, cause="edit")
    explained = lead.probability_contributions
    assert explained is not None and lead.probability != before
    added = explained["base"] + math.fsum(explained["contributions"].values())
    assert round(1 / (1 + math.exp(-added)), 4) == lead.probability
    assert any(name.startswith("title is") for name in explained["contributions"])


def _columns(
    db: Session, book: object
) -> tuple[dict[str, list[str | None]], np.ndarray, list[str]]:
    from leadflow.repositories import training

    rows = training.labelled(db, ["sql"])
    y = np.array([r["won"] for r in rows], dtype=np.int64)
    return prediction.columns_for(rows, [], []), y, []


def test_a_model_worse_than_the_active_playbook_is_kept_but_not_served(session: Session) -> None:
    add_leads(session, 300, seed=3, budget_decides=True)
    result = model.train(session, playbooks.active_playbook(session), NOW)
    metrics = result["metrics"]
    assert not result["served"] and metrics["roc_auc"] < metrics["playbook_roc_auc"]
    assert "ranks worse than the active playbook's score" in result["decision"]
    [kept] = model.versions(session)
    assert not kept.active and kept.metrics["roc_auc"] == metrics["roc_auc"]
    assert prediction.active_or_none(session) is None
    assert all(lead.probability is None for lead in session.scalars(select(Lead)))


def test_the_schedule_retrains_only_when_due_and_keeps_every_version(session: Session) -> None:
    book = playbooks.active_playbook(session)
    add_leads(session, 200, seed=4, budget_decides=False)
    first = model.retrain_if_due(session, book, NOW)
    assert first is not None and "160 new outcomes" in first["why"]
    assert model.retrain_if_due(session, book, NOW + timedelta(days=3)) is None  # not a week
    assert model.retrain_if_due(session, book, NOW + timedelta(days=8)) is None  # none new
    add_leads(session, 80, seed=5, budget_decides=False, start=200)
    second = model.retrain_if_due(session, book, NOW + timedelta(days=8))
    assert second is not None and "64 new outcomes" in second["why"]
    versions = model.versions(session)
    assert [v.version for v in versions] == [1, 2] and all("roc_auc" in v.metrics for v in versions)
    assert "active_model_roc_auc" in second["metrics"]  # measured against the one in use
    assert sum(v.active for v in versions) == 1
    assert versions[1].active == second["served"]


def test_tune_reports_boosting_and_the_active_playbook_on_the_same_leads(session: Session) -> None:
    add_leads(session, 300, seed=6, budget_decides=False)
    result = tuning_db.tune(session, playbooks.active_playbook(session))
    assert {"auc", "model", "scorecard_auc", "gbm_auc", "active_playbook_auc"} <= set(result)
    assert result["auc"] == max(result["scorecard_auc"], result["gbm_auc"])


def test_live_scoring_imports_no_learner() -> None:
    code = ("import sys, leadflow.services.pipeline; "
            "print(sorted(m for m in ('lightgbm', 'sklearn') if m in sys.modules))")  # fmt: skip
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_the_active_model_is_measured_on_the_columns_it_reads(session: Session) -> None:
    add_leads(session, 300, seed=7, budget_decides=False)
    gone = PredictiveModel(
        kind=prediction.SCORECARD,
        bins=[{"column": "page /gone", "low": 1.0, "high": None, "value": None}],
        weights=[0.5],
        intercept=-1.0,
        behaviours=["page /gone"],
        metrics={},
        created_at=NOW,
    )  # fmt: skip  (a behaviour nobody does any more)
    model.model_repo.add(session, gone, active=True)
    result = model.train(session, playbooks.active_playbook(session), NOW)
    assert result["metrics"]["active_model_roc_auc"] == 0.5  # it ranks no one: served over it
    assert result["served"] and model.active_model(session).version == 2
