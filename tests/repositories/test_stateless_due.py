"""Marks that the decay pass's search for leads without states is due: a pass takes only the
marks it read, so a bulk run at another moment that commits meanwhile is still searched for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from leadflow.repositories import stateless_due

AT = datetime(2027, 1, 15, tzinfo=UTC)


def test_a_pass_takes_the_marks_it_read_and_no_other(session: Session) -> None:
    assert stateless_due.marked(session) == []
    stateless_due.mark(session, AT)
    read = stateless_due.marked(session)
    stateless_due.mark(session, AT)  # the same moment again, after the pass read the marks
    stateless_due.take(session, read)
    left = stateless_due.marked(session)
    assert len(read) == len(left) == 1 and left != read


def test_a_mark_never_takes_the_id_of_one_taken(session: Session) -> None:
    """A second worker that read a mark another has since taken deletes by that id: a new
    mark given the same id (SQLite reuses the highest rowid without AUTOINCREMENT) would be
    lost."""
    stateless_due.mark(session, AT)
    first = stateless_due.marked(session)
    stateless_due.take(session, first)
    stateless_due.mark(session, AT - timedelta(days=3))
    assert stateless_due.marked(session)[0] > first[0]
