"""0046 stores each lead's score band beside its total (`leads.score_band`, the lower edge of
its twenty points, as `core.scoring.score_band` gives it) and the funnel reports' covering
index holds the band instead of the total; downgrading puts the total back in the index and
drops the column."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from leadflow.core.scoring import score_band
from leadflow.models.db import downgrade, make_engine, upgrade

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (:id, :e, '{}', 'lead', 0, 0, :total, '[]', :t, :t)"
)
TOTALS = [0.0, 19.99, 20.0, 39.5, 107.25, -0.01, -20.0, -20.5, 1e9, 1.7976931348623157e308, -3e9]


def _reports_index(engine: Engine) -> list[str]:
    indexes = inspect(engine).get_indexes("leads")
    return next(list(i["column_names"]) for i in indexes if i["name"] == "ix_leads_reports")


def _bands(engine: Engine) -> list[int]:
    with engine.connect() as db:
        return list(db.execute(text("SELECT score_band FROM leads ORDER BY id")).scalars())


def test_0046_fills_each_band_from_its_total_and_indexes_the_band(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0023")
    with engine.begin() as db:
        rows = [{"id": k, "e": f"l{k}@x.io", "total": t, "t": NOW} for k, t in enumerate(TOTALS)]
        db.execute(text(LEAD), rows)
    upgrade(engine)
    assert _bands(engine) == [score_band(t) for t in TOTALS]
    assert _reports_index(engine)[-2:] == ["grade", "score_band"]
    downgrade(engine, "0023")  # 0046 alone revises it
    assert "score_band" not in {c["name"] for c in inspect(engine).get_columns("leads")}
    assert _reports_index(engine)[-2:] == ["grade", "total"]
    upgrade(engine)
    assert _bands(engine) == [score_band(t) for t in TOTALS]
    engine.dispose()
