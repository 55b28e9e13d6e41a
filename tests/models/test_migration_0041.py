"""0041: PostgreSQL's tally trigger for UPDATEs of `leads` nets old rows against new ones in
one aggregate instead of joining them; the tallies, revenue included, still add up to the
leads grouped from scratch after every kind of UPDATE, on both engines, and downgrading puts
0039's function back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from leadflow.models.db import downgrade, make_engine, upgrade

GROUPS = ["source", "medium", "campaign", "persona", "stage", "reached_rank", "outcome"]
CONTACT = ["email", "first_name", "last_name", "title", "phone", "country"]
LEAD = (
    "INSERT INTO leads (id, email, first_name, title, source, stage, outcome, outcome_amount,"
    " attributes, fit, engagement, total, contributions, created_at, updated_at) VALUES"
    " (:id, :email, :first, NULL, :source, :stage, :outcome, :amount, '{}', 0, 0, 0, '[]',"
    " :at, :at)"
)
UPDATES = [
    "UPDATE leads SET updated_at = updated_at",  # every row, nothing a tally reads
    "UPDATE leads SET stage = 'mql' WHERE id % 2 = 0",  # half move
    "UPDATE leads SET outcome_amount = outcome_amount * 2 WHERE outcome = 'won'",  # same group
    "UPDATE leads SET email = NULL, title = 'VP' WHERE id % 3 = 0",  # contact fields
    "UPDATE leads SET stage = 'sql', source = 'ads' WHERE id < 8",  # some moved, some not
    "UPDATE leads SET outcome = 'lost', outcome_amount = NULL WHERE id % 5 = 1",
    "UPDATE leads SET stage = CASE WHEN stage = 'sql' THEN 'mql' ELSE 'sql' END",  # swap
    "UPDATE leads SET stage = CASE WHEN stage = 'sql' THEN 'mql' ELSE 'sql' END",  # and back
]


def _month(engine: Engine) -> str:
    if engine.dialect.name == "postgresql":
        return "to_char(timezone('UTC', created_at), 'YYYY-MM')"
    return "substr(created_at, 1, 7)"


def _kept(db: Connection) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    keys = ", ".join(["month", *GROUPS])
    sums = ", ".join(["sum(leads)", "sum(revenue)", *(f"sum(lacking_{c})" for c in CONTACT)])
    rows = db.execute(text(f"SELECT {keys}, {sums} FROM lead_tallies GROUP BY {keys}"))
    return {tuple(r[:8]): (int(r[8]), round(float(r[9]), 6), *map(int, r[10:]))
            for r in rows if r[8] or r[9] or any(r[10:])}  # fmt: skip


def _scratch(db: Connection, month: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    keys = ", ".join(GROUPS)
    lacking = ", ".join(f"count(*) - count({c})" for c in CONTACT)
    query = (f"SELECT {month}, {keys}, count(*), coalesce(sum(outcome_amount), 0.0), {lacking}"
             f" FROM leads GROUP BY {month}, {keys}")  # fmt: skip
    return {tuple(r[:8]): (int(r[8]), round(float(r[9]), 6), *map(int, r[10:]))
            for r in db.execute(text(query))}  # fmt: skip


def _updates_keep_the_tallies(engine: Engine, first_id: int) -> None:
    month = _month(engine)
    with engine.begin() as db:
        for n in range(first_id, first_id + 20):
            won = n % 4 == 0
            db.execute(text(LEAD), {
                "id": n, "email": f"l{n}@x.io", "first": None if n % 2 else "Kim",
                "source": "web" if n % 3 else None, "stage": "customer" if won else "sql",
                "outcome": "won" if won else None, "amount": 1000.5 + n if won else None,
                "at": datetime(2026, 1 + n % 3, 5, tzinfo=UTC)})  # fmt: skip
        for statement in UPDATES:
            db.execute(text(statement))
            assert _kept(db) == _scratch(db, month), statement


def _function(engine: Engine) -> str:
    with engine.connect() as db:
        query = "SELECT prosrc FROM pg_proc WHERE proname = 'lead_tallies_update'"
        return str(db.execute(text(query)).scalar_one())


def test_0041_keeps_the_tallies_exact_through_every_kind_of_update(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    _updates_keep_the_tallies(engine, 1)
    if engine.dialect.name == "postgresql":
        assert "JOIN" not in _function(engine)
        downgrade(engine, "0039")
        assert "JOIN new_rows" in _function(engine)
        _updates_keep_the_tallies(engine, 100)  # 0039's way, for comparison
        upgrade(engine)
        assert "JOIN" not in _function(engine)
    engine.dispose()
