"""The pages' snapshots serve exactly what a from-scratch computation gives at the time they
were taken, on both engines, after a mixed history: the demo's six months, then anonymous
visitors browsing, one of them signing up (their views move to a lead), two leads merged and
one person erased; the snapshot is refreshed after each and compared again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.report_math import Cohort
from leadflow.models.lead import Lead
from leadflow.models.page_snapshot import PageSnapshot
from leadflow.repositories import page_snapshots
from leadflow.repositories import visitors as visitor_counts
from leadflow.services import demo, merge, playbooks, privacy
from leadflow.services import plan as plan_service
from leadflow.services.ingest.batch import ingest, parse_all
from leadflow.services.reports import snapshots
from leadflow.worker import Worker

B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
RATES = {"visit": 0.05, "lead": 0.3, "mql": 0.4, "sql": 0.5, "opportunity": 0.3}


def _windows(now: datetime) -> list[tuple[datetime, datetime]]:
    """Windows ending now and starting at a midnight: the ones a snapshot answers."""
    return [(snapshots.midnight(now - timedelta(days=d)), now) for d in (0, 1, 7, 30, 180, 999)]


def _plan(session: Session, now: datetime) -> dict[str, Any]:
    asked = plan_service.PlanRequest(1_000_000, 20_000, "quarter", RATES)
    return plan_service.build(session, asked, now)


def _check(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    """Refresh at `now`, then compare every served figure with one computed from scratch."""
    with sessions() as session, session.begin():
        snapshots.refresh(session, playbooks.active_playbook(session), now)
    with sessions() as session:  # never committed: the snapshots are dropped below
        book = playbooks.active_playbook(session)
        served, as_of = snapshots.dashboard(session, book, Cohort(), None, now)
        scratch = snapshots.dashboard_data(session, book, Cohort(), None, now)
        assert as_of == now
        assert served == json.loads(json.dumps(scratch))
        counted, counted_at = snapshots.visitors(session, _windows(now), now)
        assert counted_at == now
        assert counted == visitor_counts.visitors_in(session, _windows(now))
        planned = _plan(session, now)
        assert planned.pop("visits_as_of") == now.isoformat()
        session.execute(delete(PageSnapshot))
        assert snapshots.dashboard(session, book, Cohort(), None, now)[1] is None
        unplanned = _plan(session, now)
        assert unplanned.pop("visits_as_of") is None
        assert planned == unplanned
    return counted


def _browse(sessions: sessionmaker[Session], at: datetime) -> None:
    """New anonymous visitors, one of whom signs up, and a known lead coming back."""
    pricing = {"properties": {"path": "/pricing"}}
    raw: list[dict[str, Any]] = []
    for n in range(6):
        for k in range(3):
            raw.append(
                {
                    "type": "page",
                    "anonymousId": f"new-{n}",
                    "messageId": f"v{n}-{k}",
                    "timestamp": (at - timedelta(minutes=30 - k)).isoformat(),
                    **pricing,
                }
            )
    raw.append({"type": "identify", "anonymousId": "new-0", "messageId": "signup",
                "timestamp": (at - timedelta(minutes=5)).isoformat(),
                "traits": {"email": "new0@example.com"}})  # fmt: skip
    with sessions() as session, session.begin():
        book = playbooks.active_playbook(session)
        messages, rejected = parse_all(raw, at)
        assert not rejected
        ingest(session, book, messages, source="test", now=at)


def test_snapshots_serve_what_a_computation_from_scratch_gives(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        demo.build(session, B2B.read_text(), leads=80, now=NOW, seed=4, train=False)
    before = _check(sessions, NOW)
    assert before[-1] > before[2] > 0  # anonymous and known visitors, over many days

    later = NOW + timedelta(minutes=40)  # within MAX_AGE
    _browse(sessions, later)
    with sessions() as session, session.begin():
        book = playbooks.active_playbook(session)
        emails = list(session.scalars(select(Lead.email).order_by(Lead.id).limit(3)))
        merge.merge_leads(session, book, emails[0], emails[1], actor="ana", now=later)
        privacy.erase(session, emails[2], actor="dpo", now=later)
    with sessions() as session:  # until refreshed, the page serves what it was at NOW
        book = playbooks.active_playbook(session)
        assert snapshots.dashboard(session, book, Cohort(), None, later)[1] == NOW
        assert snapshots.visitors(session, _windows(later), later) == (before, NOW)
    after = _check(sessions, later)
    assert after[0] > before[0]  # today's new visitors are counted


def test_a_stale_or_a_future_snapshot_is_not_served(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        demo.build(session, B2B.read_text(), leads=20, now=NOW, seed=4, train=False)
        snapshots.refresh(session, playbooks.active_playbook(session), NOW)
    with sessions() as session:
        book = playbooks.active_playbook(session)
        for asked in (NOW - timedelta(seconds=1), NOW + snapshots.MAX_AGE + timedelta(1)):
            assert snapshots.dashboard(session, book, Cohort(), None, asked)[1] is None
            assert snapshots.visitors(session, _windows(asked), asked)[1] is None
        # A period is computed when asked; a window not ending now is counted now.
        assert snapshots.dashboard(session, book, Cohort(), "2026", NOW)[1] is None
        off = [(snapshots.midnight(NOW), NOW - timedelta(minutes=1))]
        assert snapshots.visitors(session, off, NOW)[1] is None
        noon = [(snapshots.midnight(NOW) + timedelta(hours=12), NOW)]
        assert snapshots.visitors(session, noon, NOW)[1] is None


def test_the_worker_refreshes_them(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        demo.build(session, B2B.read_text(), leads=20, now=NOW, seed=4, train=False)
    worker = Worker(sessions)
    assert worker.snapshot() is not None  # none yet: due
    with sessions() as session:
        taken = {name: at for name, at, _ in page_snapshots.taken(session)}
        assert set(taken) == {snapshots.DASHBOARD, snapshots.VISITS}
        assert not snapshots.due(session, taken[snapshots.DASHBOARD])
        assert snapshots.due(session, max(taken.values()) + timedelta(seconds=snapshots.EVERY))
    assert worker.snapshot() is None  # just taken (by this worker or another): not due
    assert Worker(sessions).snapshot(force=True) is not None
