"""0050 keeps each lead's moment of change on the lead (`leads.decay_due`): the earliest of its
states' moments (`rule_states.changes_at`, dropped), 0 ("not known") when one of them was not
known, NULL without states; downgrading gives each state its lead's moment (never later than
its own, so no decay pass misses a change)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from leadflow.models.db import downgrade, make_engine, upgrade

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (:id, :e, '{}', 'lead', 0, 0, 0, '[]', :t, :t)"
)
STATE = (
    "INSERT INTO rule_states (lead_id, rule_id, rule_key, count, partials, latest, changes_at)"
    " VALUES (:lead, :rule, 'k', 1, '[[], []]', '[]', :at)"
)
# Lead 1: two known moments; 2: one not known; 3: no states; 4: one state, known.
STATES = [(1, "a", 500), (1, "b", 300), (2, "a", 700), (2, "b", None), (4, "a", 900)]


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _select(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as db:
        return [tuple(row) for row in db.execute(text(sql))]


def test_0050_moves_the_moments_of_change_to_the_leads_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0025")
    with engine.begin() as db:
        db.execute(text(LEAD), [{"id": k, "e": f"l{k}@x.io", "t": NOW} for k in (1, 2, 3, 4)])
        db.execute(text(STATE), [{"lead": i, "rule": r, "at": at} for i, r, at in STATES])
    upgrade(engine)
    assert _select(engine, "SELECT id, decay_due FROM leads ORDER BY id") == [
        (1, 300), (2, 0), (3, None), (4, 900)
    ]  # fmt: skip
    assert "changes_at" not in _columns(engine, "rule_states")
    assert "ix_leads_decay_due" in {i["name"] for i in inspect(engine).get_indexes("leads")}
    downgrade(engine, "0025")  # 0050 alone revises it
    assert "decay_due" not in _columns(engine, "leads")
    found = _select(engine, "SELECT lead_id, rule_id, changes_at FROM rule_states ORDER BY 1, 2")
    assert found == [(1, "a", 300), (1, "b", 300), (2, "a", None), (2, "b", None), (4, "a", 900)]
    engine.dispose()
