"""A full re-score of committed events reads them by kind, and scores as the per-lead path."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from leadflow.core.playbook_text import parse_playbook
from leadflow.models import Event, Lead, ScoreEntry
from leadflow.models.db import make_engine, make_session_factory
from leadflow.services.rescore import rescore_all
from leadflow.services.rescore_events import kind_columns
from tests.conftest import Migrate
from tests.services.test_rescore import B2B, NOW, explained, populate, stored

PATHS_ONLY = """
name: Rules on type, name and path only
engagement:
  half_life_days: 10
  rules:
    - {id: pricing, label: Pricing, points: 5, cap: 12,
       event: {type: page, where: {field: properties.path, regex: "^/pricing"}}}
    - {id: root, label: Home, points: 1.5, event: {where: {field: properties.path, equals: /}}}
    - {id: no_path, label: No path, points: 0.25, decay: false,
       event: {type: page, where: {field: properties.path, exists: false}}}
    - {id: burst, label: Burst, points: 5, window: {count: 2, days: 3}, event: {type: page}}
    - {id: unsubscribed, label: Unsubscribed, points: -20, decay: false, cap: 20,
       event: {type: track, name: Unsubscribed}}
"""


@pytest.fixture
def engine(database_url: str, migrate: Migrate) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session, session.begin():
        populate(session, seed=11, leads=60, events=900)
    yield engine
    engine.dispose()


def _lead_ids(session: Session) -> np.ndarray:
    return np.array(session.scalars(select(Lead.id).order_by(Lead.id)).all(), np.int64)


@pytest.mark.parametrize("text", [B2B.read_text(), PATHS_ONLY], ids=["b2b", "paths_only"])
def test_rescore_by_kind_equals_explain(engine: Engine, text: str) -> None:
    book = parse_playbook(text)
    with make_session_factory(engine)() as session, session.begin():
        before = {lead.id: lead.total for lead in session.scalars(select(Lead))}
        assert kind_columns(session, book, _lead_ids(session)) is not None  # the fast path
        result = rescore_all(session, book, NOW)
        session.expire_all()
        leads = list(session.scalars(select(Lead).order_by(Lead.id)))
        attributed = session.scalars(select(Event.id).where(Event.lead_id.is_not(None))).all()
        assert result.leads == len(leads) and result.events == len(attributed)
        for lead in leads:
            assert stored(lead) == explained(session, lead, book), lead.id
            assert lead.scored_at == NOW
        ledger = {e.lead_id: e for e in session.scalars(select(ScoreEntry))}
        assert set(ledger) == {lead.id for lead in leads if lead.total != before[lead.id]}


def test_playbooks_reading_other_fields_read_rows(engine: Engine) -> None:
    other = PATHS_ONLY + (
        "    - {id: plan, label: Plan, points: 2, event: {where: {field: properties.plan,"
        " equals: basic}}}\n"
    )
    with make_session_factory(engine)() as session, session.begin():
        assert kind_columns(session, parse_playbook(other), _lead_ids(session)) is None
