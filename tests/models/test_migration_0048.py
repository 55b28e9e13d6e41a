"""0048 takes `persona` out of the data-quality report's covering index (`ix_leads_quality`):
scoring writes the persona, so every bulk scoring that set one rebuilt that wide index.
Downgrading puts it back."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from leadflow.models.db import downgrade, make_engine, upgrade


def _quality_index(engine: Engine) -> list[str]:
    indexes = inspect(engine).get_indexes("leads")
    return next(list(i["column_names"]) for i in indexes if i["name"] == "ix_leads_quality")


def test_0048_leaves_the_persona_out_of_the_quality_index(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    after = _quality_index(engine)
    downgrade(engine, "0029")  # 0048 alone revises it
    before = _quality_index(engine)
    upgrade(engine)
    assert "persona" in before and "persona" not in after
    assert [c for c in before if c != "persona"] == after
    engine.dispose()
