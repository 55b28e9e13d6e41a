"""Shadow playbooks: a candidate scored beside the active one on live events acts on nothing,
and its stored scores equal the candidate's score from scratch; compare, backtest, promote."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, NotFound
from leadflow.core.facts import lead_facts
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.report_math import roc_auc
from leadflow.core.scoring import score_from_events
from leadflow.models import Account, AuditEntry, Lead, OutboxMessage, ShadowScore, StageChange
from leadflow.repositories import events as event_repo
from leadflow.repositories import rule_state
from leadflow.services import leads as lead_service
from leadflow.services import playbooks, shadow
from leadflow.services.pipeline import run_live
from leadflow.services.rescore import rescore_all
from tests.services.test_live_state import feed_live, lead_rows
from tests.services.test_rescore import B2B, NOW, populate

ACTIVE = B2B.read_text()
# Different engagement points and half-life (its own states), a lower MQL bar.
CANDIDATE = (
    ACTIVE.replace("{field: engagement, gte: 30}", "{field: engagement, gte: 10}")
    .replace("half_life_days: 30", "half_life_days: 9")
    .replace("name: Flowline B2B SaaS", "name: Flowline candidate", 1)
)


def _start(session: Session) -> None:
    playbooks.install(session, ACTIVE, author="test", now=NOW - timedelta(days=60))
    populate(session, seed=11, leads=24, events=0)
    shadow.start(session, CANDIDATE, author="ana", now=NOW - timedelta(days=50))


def _acted(session: Session) -> tuple[Any, ...]:
    """Everything the live pipeline acts on: leads, stage moves, alerts."""
    moves = session.scalar(select(func.count()).select_from(StageChange))
    alerts = session.scalar(select(func.count()).select_from(OutboxMessage))
    return lead_rows(session), moves, alerts


def test_candidate_differs_from_active() -> None:
    assert CANDIDATE != ACTIVE
    assert "half_life_days: 9" in CANDIDATE and "gte: 10}" in CANDIDATE


def test_shadow_acts_on_nothing(session: Session) -> None:
    _start(session)
    book = playbooks.active_playbook(session)
    nested = session.begin_nested()
    feed_live(session, book, 4, events=60)
    with_shadow = _acted(session)
    shadowed = session.scalar(select(func.count()).select_from(ShadowScore))
    nested.rollback()
    session.expire_all()
    shadow.stop(session, author="ana", now=NOW)
    feed_live(session, book, 4, events=60)
    assert with_shadow == _acted(session)
    assert shadowed and session.scalar(select(func.count()).select_from(ShadowScore)) == 0
    assert with_shadow[1] > 0  # the active playbook did move leads


def test_shadow_scores_equal_the_candidate_from_scratch(session: Session) -> None:
    _start(session)
    book = playbooks.active_playbook(session)
    candidate = parse_playbook(CANDIDATE)
    last = feed_live(session, book, 7, events=80)
    scored = list(session.scalars(select(ShadowScore.lead_id).order_by(ShadowScore.lead_id)))
    rule_state.forget(session, scored[:2])  # as when their events change hands
    session.expire_all()
    assert session.get_one(ShadowScore, scored[0]).rule_key is None  # rebuilt next time
    later = last + timedelta(days=2, hours=5)
    run_live(session, book, scored, later, cause="decay")
    session.expire_all()
    rows = list(session.scalars(select(ShadowScore)))
    assert len(rows) > 10
    for row in rows:
        lead = session.get_one(Lead, row.lead_id)
        account = lead_service.account_dict(session.get(Account, lead.account_id or 0))
        tier = candidate.tier_of(account["domain"] if account else None)
        facts = lead_facts(lead_service.lead_dict(lead), account, tier.id if tier else None)
        history = [lead_service.event_facts(e) for e in event_repo.for_lead(session, lead.id)]
        assert row.scored_at == later
        scratch = score_from_events(candidate, facts, history, later)
        assert row.total == scratch.total, row.lead_id
        assert (row.mql_at is not None) == (row.stage in ("mql", "sql"))


def test_compare_counts_mqls_conversions_and_disagreements(session: Session) -> None:
    _start(session)
    book = playbooks.active_playbook(session)
    feed_live(session, book, 9, events=80)
    rows = list(session.scalars(select(ShadowScore)))
    for k, row in enumerate(rows):  # close some of the leads both scored
        session.get_one(Lead, row.lead_id).outcome = "won" if k % 3 == 0 else "lost"
    session.flush()
    figures = shadow.compare_live(session)
    assert figures["mode"] == "shadow" and figures["leads"] == len(rows)
    assert figures["closed"] == len(rows) and figures["won"] == len(rows[::3])
    candidate_mqls = sum(r.mql_at is not None for r in rows)
    active_mqls = sum(r.active_mql_at is not None for r in rows)
    assert figures["candidate"]["mqls"] == candidate_mqls
    assert figures["active"]["mqls"] == active_mqls
    assert candidate_mqls > active_mqls  # the lower bar qualifies more
    won = {r.lead_id for k, r in enumerate(rows) if k % 3 == 0}
    assert figures["candidate"]["mqls_won"] == sum(
        r.mql_at is not None and r.lead_id in won for r in rows
    )
    only = {d["lead_id"] for d in figures["disagree"]["leads"]}
    assert only == {r.lead_id for r in rows if (r.mql_at is None) != (r.active_mql_at is None)}
    assert figures["candidate"]["auc"] is not None


def test_backtest_scores_both_on_history_and_changes_nothing(session: Session) -> None:
    playbooks.install(session, ACTIVE, author="test", now=NOW - timedelta(days=60))
    populate(session, seed=12, leads=30, events=400)
    for k, lead in enumerate(session.scalars(select(Lead).order_by(Lead.id))):
        lead.outcome = ("won", "lost", None)[k % 3]
    session.flush()
    before = lead_rows(session)
    nested = session.begin_nested()
    figures = shadow.backtest(session, CANDIDATE, NOW)
    nested.rollback()
    session.expire_all()
    assert lead_rows(session) == before
    assert figures["mode"] == "backtest" and figures["leads"] == 30
    assert figures["closed"] == 20 and figures["won"] == 10
    disagree = figures["disagree"]
    gap = figures["active"]["mqls"] - figures["candidate"]["mqls"]
    assert disagree["active_only"] - disagree["candidate_only"] == gap
    assert len(disagree["leads"]) == disagree["active_only"] + disagree["candidate_only"] > 0
    for name, text in (("active", ACTIVE), ("candidate", CANDIDATE)):
        nested = session.begin_nested()
        rescore_all(session, parse_playbook(text), NOW)
        closed = [(x.total, x.outcome == "won") for x in session.scalars(select(Lead)) if x.outcome]
        nested.rollback()
        totals, won = (np.array(c) for c in zip(*closed, strict=True))
        assert figures[name]["auc"] == roc_auc(totals, won)


def test_promote_applies_the_candidate_and_ends_the_shadow(session: Session) -> None:
    _start(session)
    feed_live(session, playbooks.active_playbook(session), 3, events=20)
    outcome = shadow.promote(session, author="ana", now=NOW)
    assert outcome.version == 2 and "gte: 10}" in outcome.diff
    assert playbooks.active_playbook(session).name == "Flowline candidate"
    assert session.scalar(select(func.count()).select_from(ShadowScore)) == 0
    with pytest.raises(NotFound, match="playbook shadow FILE"):
        shadow.compare_live(session)
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-3:] == ["playbook.shadow", "playbook.activate", "playbook.promote"]


def test_the_active_playbook_cannot_shadow_itself(session: Session) -> None:
    playbooks.install(session, ACTIVE, author="test", now=NOW)
    with pytest.raises(Conflict, match="active one"):
        shadow.start(session, ACTIVE, author="ana", now=NOW)


def test_a_new_active_version_restarts_the_comparison(session: Session) -> None:
    _start(session)
    feed_live(session, playbooks.active_playbook(session), 5, events=20)
    assert session.scalar(select(func.count()).select_from(ShadowScore))
    third = ACTIVE.replace("{field: fit, gte: 40}", "{field: fit, gte: 45}")
    playbooks.apply(session, third, author="bo", now=NOW)
    assert session.scalar(select(func.count()).select_from(ShadowScore)) == 0
    assert shadow.compare_live(session)["candidate_version"] == 2  # still runs, afresh
    playbooks.apply(session, CANDIDATE, author="bo", now=NOW)  # the candidate made active
    with pytest.raises(NotFound):
        shadow.shadow_version(session)
