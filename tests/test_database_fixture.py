"""The ``database_url`` fixture yields a working, empty database for every engine."""

from __future__ import annotations

import sqlalchemy as sa


def test_create_insert_select(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        metadata = sa.MetaData()
        things = sa.Table(
            "things",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), nullable=False),
        )
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(things.insert(), [{"name": "alpha"}, {"name": "beta"}])
        with engine.connect() as conn:
            names = conn.scalars(sa.select(things.c.name).order_by(things.c.id)).all()
        assert names == ["alpha", "beta"]
        assert engine.dialect.name in {"sqlite", "postgresql"}
    finally:
        engine.dispose()


def test_database_starts_empty(database_url: str) -> None:
    """Each test gets its own database: nothing left over from the test above."""
    engine = sa.create_engine(database_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
