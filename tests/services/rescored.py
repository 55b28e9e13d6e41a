"""What a full re-score (`leadflow rescore`) would give, read and then undone: the reference
the tests compare every other path with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.services import pipeline

T = TypeVar("T")


def as_rescored(session: Session, book: Playbook, at: datetime, read: Callable[[Session], T]) -> T:
    """`read` of the database after a full re-score at `at`, in a savepoint rolled back."""
    savepoint = session.begin_nested()
    pipeline.run_bulk(session, book, at, cause="rescore", actor="rescore")
    found = read(session)
    savepoint.rollback()
    session.expire_all()
    return found
