"""Closed leads by outcome and time: an index of closed leads only, so a score written for an
open lead (every live event, every re-score) has one index fewer to update, and the reports
that read closed leads (calibration, drift, the plan's wins) still find them by it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.lead import Lead
from leadflow.repositories import leads, reports
from tests.repositories.conftest import NOW

INDEX = "ix_leads_closed"


def _definition(session: Session) -> str:
    if session.get_bind().dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    return str(session.execute(text(query), {"name": INDEX}).scalar() or "")


def test_the_index_holds_only_closed_leads(session: Session) -> None:
    definition = _definition(session)
    assert "outcome IS NOT NULL" in definition.replace("(", "").replace(")", "")
    assert "ix_leads_outcome_closed_at" not in _definition(session)


def test_reports_on_closed_leads_read_them_by_the_index(session: Session) -> None:
    won = leads.create(session, email="won@example.com")
    lost = leads.create(session, email="lost@example.com")
    leads.create(session, email="open@example.com")
    for lead, outcome, total in ((won, "won", 80.0), (lost, "lost", 20.0)):
        session.execute(
            update(Lead)
            .where(Lead.id == lead.id)
            .values(outcome=outcome, closed_at=NOW - timedelta(days=1), total=total)
        )
    scores, outcomes = reports.closed_scores(session, Cohort())
    assert sorted(scores.tolist()) == [20.0, 80.0]
    assert sorted(outcomes.tolist()) == [False, True]
    if session.get_bind().dialect.name == "sqlite":
        plan = session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT total FROM leads"
                " WHERE outcome IN ('won', 'lost') AND closed_at >= :at"
            ),
            {"at": NOW.isoformat()},
        ).all()
        assert INDEX in " ".join(str(row[-1]) for row in plan)
