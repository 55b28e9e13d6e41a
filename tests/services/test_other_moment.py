"""`leadflow rescore --at` another moment, then the worker's sweep at the present: every lead
ends as a full re-score at the present scores it, whichever moment its stored score was of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from leadflow import worker as worker_module
from leadflow.models import Account, Lead
from leadflow.models.db import make_session_factory
from leadflow.services import pipeline, playbooks
from leadflow.services.importing import import_events
from leadflow.services.ingest.batch import ingest, parse_all
from leadflow.worker import Worker
from tests.services.rescored import as_rescored

NOW = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)
BOOK = """
name: Moments
engagement:
  rules:
    - {id: pages, label: Pages, points: 10, decay: false, event: {type: page}}
    - {id: burst, label: Burst, points: 5, event: {type: page}, window: {count: 1, days: 1}}
    - {id: fading, label: Fading, points: 8, half_life_days: 2, event: {type: page}}
account_scoring: {engaged_min_engagement: 5}
lifecycle:
  mql: {field: total, gte: 15}
routing: {fallback: inbound}
"""


def _tracked(session: Session, email: str, at: datetime) -> None:
    """A page view of this person at `at`, through the tracking path (scored live)."""
    message = {"type": "page", "userId": email, "messageId": f"{email}-{at.isoformat()}",
               "timestamp": at.isoformat(), "properties": {"path": "/x"}}  # fmt: skip
    messages, rejected = parse_all([message], at)
    assert not rejected
    ingest(session, playbooks.active_playbook(session), messages, source="test", now=at)


def _imported(session: Session, email: str, at: datetime) -> None:
    """A page view of this person imported from a file (scored in bulk: no live state)."""
    row = {"email": email, "type": "page", "timestamp": at.isoformat()}
    report = import_events(session, enumerate([row], 2), skip_invalid=False, now=at)
    pipeline.run_import(session, playbooks.active_playbook(session), report, at, actor="import")


def _shown(session: Session) -> dict[str, Any]:
    session.flush()
    session.expire_all()
    leads = {
        lead.email: (lead.fit, lead.engagement, lead.total, lead.grade, lead.stage,
                     [(c["rule"], c["points"], c.get("event_count", 0))
                      for c in lead.contributions])
        for lead in session.scalars(select(Lead))
    }  # fmt: skip
    accounts = {a.domain: (a.engagement, a.total, a.engaged_leads)
                for a in session.scalars(select(Account))}  # fmt: skip
    return {**leads, **accounts}


def _rescored(session: Session, at: datetime) -> dict[str, Any]:
    """What a full re-score at `at` gives, then undone."""
    return as_rescored(session, playbooks.active_playbook(session), at, _shown)


@pytest.mark.parametrize("scored", ["live", "in bulk"])
@pytest.mark.parametrize(
    "moment", [timedelta(days=-10), timedelta(days=3)], ids=["earlier", "later"]
)
def test_the_sweep_after_a_rescore_at_another_moment_scores_as_a_rescore_now(
    session: Session, scored: str, moment: timedelta
) -> None:
    """Ann viewed a page now: tracked (and the worker's sweep has found her states' next
    moments) or imported (no live state). Re-scored as of ten days ago the view is not
    counted yet; as of three days on, the burst's window (a day) is over and the fading
    points have halved. The worker's next sweep, a second later, scores her as a re-score at
    that second does."""
    playbooks.install(session, BOOK, author="test", now=NOW)
    book = playbooks.active_playbook(session)
    (_tracked if scored == "live" else _imported)(session, "ann@acme.com", NOW)
    present = _shown(session)["ann@acme.com"]
    assert present[1] == 23 and present[4] == "mql"
    if scored == "live":  # the worker's sweep meanwhile: nothing moved, her states' moments known
        pipeline.run_decay(session, book, NOW)

    pipeline.run_bulk(session, book, NOW + moment, cause="rescore", actor="rescore")
    assert _shown(session)["ann@acme.com"][1] != 23  # scored as of that moment

    sweep = NOW + timedelta(seconds=1)
    pipeline.run_decay(session, book, sweep)
    pipeline.run_account_peers(session, book, sweep)
    assert _shown(session) == _rescored(session, sweep)


@pytest.mark.parametrize("stateless", ["imported", "states of an earlier playbook"])
@pytest.mark.parametrize(
    "moment", [timedelta(days=-10), timedelta(days=3)], ids=["earlier", "later"]
)
def test_a_running_workers_next_pass_scores_a_lead_without_states_at_the_present(
    engine: Engine, stateless: str, moment: timedelta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker has made its hourly search for leads without states; then Ann, who has
    none (imported, or tracked under a playbook changed since), is re-scored as of another
    moment, in another transaction (`rescore --at`, another process). The worker's next pass,
    a minute later, scores her as a re-score then does. Before, only the next hourly search
    found her: she kept that moment's score for up to an hour. Bo, imported after that pass,
    is left to the hourly search: a pass does not read every lead."""
    factory = make_session_factory(engine)
    clock = [NOW - timedelta(minutes=5)]
    monkeypatch.setattr(worker_module, "utcnow", lambda: clock[0])
    with factory() as session, session.begin():
        playbooks.install(session, BOOK, author="test", now=clock[0])
    worker = Worker(factory)
    worker.decay()  # its first pass searches for leads without states: none yet
    with factory() as session, session.begin():
        if stateless == "imported":
            _imported(session, "ann@acme.com", NOW)
        else:
            _tracked(session, "ann@acme.com", NOW)
            playbooks.apply(session, BOOK.replace("points: 10", "points: 12"), author="test",
                            now=NOW)  # fmt: skip
    with factory() as session, session.begin():
        book = playbooks.active_playbook(session)
        pipeline.run_bulk(session, book, NOW + moment, cause="rescore", actor="rescore",
                          other_moment=True)  # fmt: skip

    clock[0] = NOW + timedelta(minutes=1)
    worker.decay()
    with factory() as session, session.begin():
        assert _shown(session) == _rescored(session, clock[0])
        _imported(session, "bo@acme.com", clock[0])
    clock[0] = NOW + timedelta(days=1)  # Bo's fading points have moved: no search finds him
    worker.decay()
    with factory() as session:
        assert session.scalar(select(Lead.scored_at).where(Lead.email == "bo@acme.com")) == (
            NOW + timedelta(minutes=1)
        )
