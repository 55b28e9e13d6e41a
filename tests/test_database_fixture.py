"""The ``database_url`` fixture yields a working, empty database for every engine; ``prepared``
copies of a prepared one hold what preparing it writes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.api.conftest import apply_b2b
from tests.conftest import Migrate, Prepared, template_database


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


def test_a_prepared_copy_holds_the_rows_preparing_writes(
    database_url: str, prepared: Prepared, migrate: Migrate,
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    """`prepared` copies what `migrate` then the preparation make (the app's playbook)."""
    prepared(database_url, "b2b", apply_b2b)
    engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with template_database(request, tmp_path_factory, engine) as other:
        migrate(other.url)
        apply_b2b(other.url)
        assert _rows(database_url) == _rows(other.url)
    assert _rows(database_url)["playbook_versions"]  # the playbook is there


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            tables = sorted(sa.inspect(db).get_table_names())
            return {
                t: sorted(
                    (tuple(row) for row in db.execute(sa.text(f'SELECT * FROM "{t}"'))), key=repr
                )
                for t in tables
            }
    finally:
        engine.dispose()
