"""Stage changes and the score ledger: append-only histories per lead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from leadflow.repositories import leads, score_ledger, stage_changes
from tests.repositories.conftest import NOW


def test_stage_changes_keep_reason_and_actor(session: Session) -> None:
    lead = leads.create(session, email="a@b.com")
    stage_changes.record(
        session,
        lead_id=lead.id,
        from_stage="lead",
        to_stage="mql",
        at=NOW + timedelta(hours=1),
        reason="score 60 >= 50",
        actor="system",
    )
    stage_changes.record_many(
        session,
        [
            {
                "lead_id": lead.id,
                "from_stage": None,
                "to_stage": "lead",
                "at": NOW,
                "reason": "created",
                "actor": "import",
            }
        ],
    )
    history = stage_changes.for_lead(session, lead.id)
    assert [(c.from_stage, c.to_stage, c.actor) for c in history] == [
        (None, "lead", "import"),
        ("lead", "mql", "system"),
    ]
    assert history[1].reason == "score 60 >= 50"


def test_score_ledger_appends(session: Session) -> None:
    lead = leads.create(session, email="a@b.com")
    score_ledger.append(
        session,
        lead_id=lead.id,
        at=NOW,
        cause="import",
        fit=10.0,
        engagement=0.0,
        total=10.0,
        grade="C4",
        delta_total=10.0,
    )
    score_ledger.append_many(
        session,
        [
            {
                "lead_id": lead.id,
                "at": NOW + timedelta(minutes=1),
                "event_id": 7,
                "cause": "event",
                "fit": 10.0,
                "engagement": 5.0,
                "total": 15.0,
                "grade": "C3",
                "delta_total": 5.0,
            }
        ],
    )
    entries = score_ledger.for_lead(session, lead.id)
    assert [(e.cause, e.total, e.delta_total, e.event_id) for e in entries] == [
        ("import", 10.0, 10.0, None),
        ("event", 15.0, 5.0, 7),
    ]


def test_entries_into_a_stage_count_moves_not_actions_that_keep_it(session: Session) -> None:
    """A rep accepting an SQL writes sql -> sql to the history: an action, not an entry, so
    the digest's and the SLA report's "entered" counts do not count the lead twice."""
    from leadflow.repositories import reports

    lead = leads.create(session, email="a@b.com")
    moves = [(None, "lead"), ("lead", "sql"), ("sql", "sql")]
    for k, (before, after) in enumerate(moves):
        stage_changes.record(session, lead_id=lead.id, from_stage=before, to_stage=after,
                             at=NOW + timedelta(hours=k), reason="r", actor="system")  # fmt: skip
    end = NOW + timedelta(days=1)
    assert stage_changes.entries_between(session, "sql", NOW, end) == 1
    assert reports.entries(session, "sql", NOW, end) == 1
    assert stage_changes.entries_between(session, "lead", NOW, end) == 1
