"""A history for the drift report: a model trained on outcomes it predicts well, then leads it
scored that close in November as the test says (shared by the service and page tests).

Partners buy four times in five, ads once in five, in September and October; the model is
trained on 2026-11-01 12:00 and scores the 200 opportunities still open (100 of each source),
which close between 2026-11-02 and 11-21 with the wins the test asks for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.lifecycle import Action
from leadflow.models import Lead
from leadflow.models.prediction import PredictiveModel
from leadflow.services import lifecycle, model, playbooks

B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"
TRAINED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HISTORY_START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
NOVEMBER_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SOURCES = ("partner", "ads")


def _lead(session: Session, key: str, source: str, created: datetime) -> Lead:
    lead = Lead(email=f"{key}@drift.example", source=source, stage="opportunity",
                created_at=created, updated_at=created)  # fmt: skip
    session.add(lead)
    return lead


def _close(session: Session, lead: Lead, won: bool, at: datetime) -> None:
    action = Action.CLOSE_WON if won else Action.CLOSE_LOST
    lifecycle.act(session, lead, action, actor="test", reason="signed" if won else "no budget",
                  now=at, amount=1000.0 if won else None)  # fmt: skip


def trained_model(session: Session) -> PredictiveModel:
    """The playbook, 240 closed leads (partners 80% won, ads 20%) and the model they train,
    served at TRAINED; 200 opportunities open, scored by it."""
    playbooks.install(session, B2B.read_text(), author="test", now=HISTORY_START)
    for i in range(120):  # interleaved, so the newest quarter (validation) is like the rest
        at = HISTORY_START + timedelta(hours=6 * i)
        for source in SOURCES:
            lead = _lead(session, f"h{i}-{source}", source, at - timedelta(days=20))
            session.flush()
            _close(session, lead, (i % 5 != 0) == (source == "partner"), at)
    for i in range(100):
        for source in SOURCES:
            _lead(session, f"n{i}-{source}", source, TRAINED - timedelta(days=10))
    session.flush()
    result = model.train(session, playbooks.active_playbook(session), TRAINED)
    assert result["served"], result["decision"]
    served = model.active_model(session)
    return served


def close_november(session: Session, wins: dict[str, int], leads: int = 100) -> None:
    """Close the first `leads` of each source's 100 open leads in November, `wins[source]`
    of them won."""
    for source in SOURCES:
        for i in range(leads):
            email = f"n{i}-{source}@drift.example"
            lead = session.scalars(select(Lead).where(Lead.email == email)).one()
            _close(session, lead, i < wins[source], NOVEMBER_START + timedelta(hours=4 * i))
    session.flush()
