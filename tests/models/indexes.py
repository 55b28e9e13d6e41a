"""The index names of a table as the engine lists them (expression indexes included)."""

from __future__ import annotations

from sqlalchemy import Engine, text


def index_names(engine: Engine, table: str) -> set[str]:
    """Every index on `table`, by name (SQLite's automatic ones too)."""
    with engine.connect() as db:
        if engine.dialect.name == "postgresql":
            query = "SELECT indexname FROM pg_indexes WHERE tablename = :t"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
        return set(db.execute(text(query), {"t": table}).scalars())
