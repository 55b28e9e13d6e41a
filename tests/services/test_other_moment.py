"""`leadflow rescore --at` another moment, then the worker's sweep at the present: every lead
ends as a full re-score at the present scores it, whichever moment its stored score was of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models import Account, Lead
from leadflow.services import pipeline, playbooks
from leadflow.services.importing import import_events
from leadflow.services.ingest.batch import ingest, parse_all
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
