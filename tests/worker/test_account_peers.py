"""Stage criteria on the account's score: when one lead's event moves its account's score, the
other leads there move too (by the worker, seconds later), as a re-score moves them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from leadflow.models.db import make_session_factory
from leadflow.models.lead import Lead
from leadflow.services import ingest, playbooks
from leadflow.worker import Worker

PEERS = """
name: Account heat
engagement:
  rules:
    - {id: pages, label: Pages, points: 10, decay: false, event: {type: page}}
lifecycle:
  lead: {field: email, exists: true}
  mql: {field: account.score, gte: 25}
routing: {fallback: inbound}
"""


def _send(engine: Engine, *messages: dict[str, object]) -> None:
    now = datetime.now(UTC)
    with make_session_factory(engine)() as session, session.begin():
        valid, rejected = ingest.parse_all(list(messages), now)
        assert not rejected
        ingest.ingest(session, playbooks.active_playbook(session), valid, source="t", now=now)


def _stages(engine: Engine) -> dict[str, str]:
    with make_session_factory(engine)() as session:
        return {lead.email or "": lead.stage for lead in session.scalars(select(Lead))}


def test_a_colleagues_event_moves_a_lead_whose_stage_reads_the_account_score(
    engine: Engine,
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        playbooks.apply(session, PEERS, author="tests", now=datetime.now(UTC))
    bob = {"type": "identify", "userId": "bob@acme.com", "traits": {"email": "bob@acme.com"}}
    _send(engine, bob)
    for k in range(3):
        _send(engine, {"type": "page", "userId": "ann@acme.com", "name": f"/p{k}"})
    assert _stages(engine) == {"ann@acme.com": "mql", "bob@acme.com": "lead"}
    Worker(make_session_factory(engine)).sweep()
    assert _stages(engine) == {"ann@acme.com": "mql", "bob@acme.com": "mql"}
