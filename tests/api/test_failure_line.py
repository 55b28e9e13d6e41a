"""A failed worker pass is logged with what a reader can act on, and no personal data.

A traceback's message holds the statement's parameters (e-mails), so the worker logs the
error's type and place only; for a database that cannot take the write it also says why
("locked by another writer"), which the type alone (`OperationalError`) does not.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from leadflow.api.errors import failure_line
from leadflow.models.db import make_engine


def locked_write(tmp_path: Path) -> OperationalError:
    """The error of a write that waited out another writer's lock, carrying an e-mail."""
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}", lock_wait_ms=50)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE people (email TEXT)"))
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO people VALUES (:e)"), {"e": "ana@example.com"})
    except OperationalError as exc:
        return exc
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    pytest.fail("the write did not wait for the lock")


def test_a_locked_database_is_named_without_the_statements_data(tmp_path: Path) -> None:
    line = failure_line("worker pass failed", locked_write(tmp_path))
    assert line.startswith("worker pass failed: OperationalError at ")
    assert "the database is locked by another writer" in line
    assert "ana@example.com" not in line
    assert "INSERT" not in line


def test_another_error_gives_its_type_and_place_only() -> None:
    try:
        {}["ana@example.com"]
    except KeyError as exc:
        line = failure_line("retraining failed", exc)
    assert line.startswith("retraining failed: KeyError at test_failure_line.py:")
    assert "ana@example.com" not in line
