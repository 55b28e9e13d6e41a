"""Velocity's figures read from indexes of the times (SQLite's, migration 0033: times in a
stage, times to the win; PostgreSQL's, migration 0035: times in a stage) equal the figures
from every row, computed the way the report always did, after stage changes arrive through
each path: the demo builder, sales' moves, an import's bulk stage moves, a merge and an
erasure. PostgreSQL reads the times to the win from the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.lifecycle import Action
from leadflow.core.report_math import Cohort, percentiles
from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.repositories import reports as queries
from leadflow.repositories.report_sql import seconds_between
from leadflow.services import demo, lifecycle, merge, playbooks, privacy
from leadflow.services.reports import funnel

B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "nurture", "disqualified"]


def _scratch(session: Session) -> dict[str, Any]:
    """Velocity's rows and lead_to_customer from every row, in the table's order."""
    spent = seconds_between(session, StageChange.at, StageChange.previous_entered_at)
    query = (
        select(StageChange.from_stage, spent)
        .where(StageChange.from_stage.is_not(None), StageChange.previous_entered_at.is_not(None))
        .order_by(StageChange.id)
    )
    moves = session.execute(query).all()
    rows = []
    for stage in STAGES:
        days = np.array([s for f, s in moves if f == stage], dtype=np.float64) / 86400.0
        if days.size:
            figures = percentiles(days)
            rows.append({"stage": stage, "n": int(days.size),
                         "mean_days": round(float(days.mean()), 2),
                         "p50_days": figures["p50"], "p90_days": figures["p90"]})  # fmt: skip
    won = np.asarray(queries.lead_to_customer_seconds(session, Cohort())) / 86400.0
    figures = percentiles(won)
    to_customer = {"n": int(won.size), "p50_days": figures["p50"], "p90_days": figures["p90"]}
    return {"rows": rows, "lead_to_customer": to_customer}


def _check(session: Session) -> dict[str, Any]:
    report = funnel.velocity(session, Cohort())
    found = {"rows": report["rows"], "lead_to_customer": report["lead_to_customer"]}
    assert found == _scratch(session)
    return found


def _plans_read_the_indexes(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        _postgresql_plans_read_the_index(session)
        return
    sql = (
        "EXPLAIN QUERY PLAN SELECT count(*) FROM stage_changes"
        " INDEXED BY ix_stage_changes_time_in_stage WHERE from_stage IS NOT NULL"
        " AND previous_entered_at IS NOT NULL"
    )
    assert "ix_stage_changes_time_in_stage" in str(session.execute(text(sql)).all())


def _postgresql_plans_read_the_index(session: Session) -> None:
    """Velocity's time in a stage is the index's expression, word for word: with the table's
    reads and sorting priced out, PostgreSQL reads a stage's times, in order, from the index
    alone (a few rows here: it would rather read the table)."""
    spent = seconds_between(session, StageChange.at, StageChange.previous_entered_at)
    query = (
        select(spent)
        .where(StageChange.from_stage == "lead", StageChange.previous_entered_at.is_not(None))
        .order_by(spent)
        .limit(3)
    )
    compiled = query.compile(dialect=session.get_bind().dialect)
    for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
        session.execute(text(f"SET LOCAL {setting} = off"))
    explained = session.connection().exec_driver_sql(f"EXPLAIN {compiled.string}", compiled.params)
    plan = " | ".join(row[0] for row in explained)
    session.rollback()  # the settings end with the transaction
    assert "Index Only Scan using ix_stage_changes_time_in_stage_pg" in plan, plan
    assert "Sort" not in plan, plan


def _move(session: Session, lead: Lead, action: Action, at: datetime) -> None:
    lifecycle.act(session, lead, action, actor="ana", reason="test", now=at, amount=500.0)


def test_velocity_from_the_indexes_equals_every_row(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        demo.build(session, B2B.read_text(), leads=80, now=NOW, seed=4, train=False)
    with sessions() as session:
        _plans_read_the_indexes(session)
        built = _check(session)
    assert built["rows"] and built["lead_to_customer"]["n"] > 0

    later = NOW + timedelta(hours=3)
    with sessions() as session, session.begin():  # sales' moves, one lead at a time
        open_leads = session.scalars(
            select(Lead)
            .where(Lead.stage.in_(["lead", "mql", "sql"]), Lead.outcome.is_(None))
            .order_by(Lead.id)
            .limit(4)
        ).all()
        for k, lead in enumerate(open_leads[:3]):
            _move(session, lead, Action.ACCEPT, later + timedelta(minutes=k))
            _move(session, lead, Action.CONVERT, later + timedelta(hours=1, minutes=k))
            _move(session, lead, Action.CLOSE_WON, later + timedelta(days=2, minutes=k))
        _move(session, open_leads[3], Action.DISQUALIFY, later)
    with sessions() as session:
        moved = _check(session)
    assert moved["lead_to_customer"]["n"] == built["lead_to_customer"]["n"] + 3

    with sessions() as session, session.begin():  # a merge, then an erasure
        book = playbooks.active_playbook(session)
        emails = list(session.scalars(
            select(Lead.email).where(Lead.outcome == "won").order_by(Lead.id).limit(2)
        ))  # fmt: skip
        # A record of the first customer with no deal of its own (two won deals are no merge).
        duplicate = session.scalars(
            select(Lead.email).where(Lead.outcome.is_(None)).order_by(Lead.id).limit(1)
        ).one()
        merge.merge_leads(session, book, emails[0], duplicate, actor="ana", now=later)
        privacy.erase(session, emails[1], actor="dpo", now=later)
    with sessions() as session:
        after = _check(session)
    assert after["lead_to_customer"]["n"] < moved["lead_to_customer"]["n"]


def test_a_mean_on_a_rounding_boundary_is_computed_from_the_moves(session: Session) -> None:
    # Julian days begin at noon, so noon-to-noon moves are whole days with no rounding:
    # one move of a day and seven of none leave mql after 0.125 days on average, exactly
    # between 0.12 and 0.13, which only the moves themselves (in their order) can round.
    noon = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    for k in range(8):
        lead = Lead(email=f"m{k}@x.io", stage="sql", created_at=noon, reached_rank=-1)
        session.add(lead)
        session.flush()
        spent = timedelta(days=1 if k == 3 else 0)
        session.add(StageChange(lead_id=lead.id, from_stage="mql", to_stage="sql",
                                at=noon + spent, reason="test", actor="system",
                                previous_entered_at=noon))  # fmt: skip
    session.flush()
    (row,) = funnel.velocity(session, Cohort())["rows"]
    assert row == _scratch(session)["rows"][0]
    assert (row["n"], row["mean_days"], row["p50_days"], row["p90_days"]) == (8, 0.12, 0.0, 0.3)
