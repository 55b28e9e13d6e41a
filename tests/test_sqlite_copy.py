"""tests/sqlite_copy.py: a SQLite database copied into PostgreSQL holds the same rows, and the
copy goes on working as if built there (ids continue, the tally triggers count again)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.lead import Lead
from leadflow.services import demo
from tests.conftest import Migrate
from tests.services.test_lead_tallies import tallies_from_scratch, tallies_kept
from tests.sqlite_copy import SKIPPED, copy_database

B2B = Path(__file__).resolve().parents[1] / "examples" / "b2b_saas.yaml"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as db:
        tables = set(inspect(db).get_table_names()) - SKIPPED
        found = {t: int(db.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                 for t in tables}  # fmt: skip
    engine.dispose()
    return found


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_copy_holds_every_row_and_goes_on_as_if_built_there(
    database_url: str, tmp_path: Path, migrate: Migrate
) -> None:
    source = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate(source)
    engine = make_engine(source)
    with make_session_factory(engine)() as db, db.begin():
        demo.build(db, B2B.read_text(), leads=60, now=NOW, seed=3, train=False)
    engine.dispose()
    copy_database(tmp_path / "demo.db", database_url)
    copied = counts(database_url)
    assert copied == counts(source)
    assert copied["leads"] == 60 and copied["events"] > 0 and copied["lead_tallies"] > 0
    engine = make_engine(database_url)
    with Session(engine) as db, db.begin():
        assert tallies_kept(db) == tallies_from_scratch(db)
        biggest = db.scalar(select(Lead.id).order_by(Lead.id.desc()).limit(1))
        lead = Lead(email="new@after-the-copy.io", stage="mql", created_at=NOW, updated_at=NOW)
        db.add(lead)
        db.flush()
        assert biggest is not None and lead.id > biggest  # the sequence moved past the copy
        db.execute(text("UPDATE leads SET stage = 'sql' WHERE id % 2 = 0"))
        assert tallies_kept(db) == tallies_from_scratch(db)  # the triggers count again
    engine.dispose()
