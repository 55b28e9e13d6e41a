"""Bulk runs that scored leads as of another moment: the search for leads without states is
due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class StatelessSearchDue(Base):
    """A bulk run that scored leads as of another moment than the present (`rescore --at`).

    The decay pass reaches a lead with rule states by them (`rule_state.unsettle`), but one
    without states only by a search that reads every lead, made hourly: while a row is here,
    the worker's next pass makes it too, and takes the rows it saw once that search is done.
    Ids never come back (AUTOINCREMENT on SQLite, a sequence on PostgreSQL), so a row written
    after a worker's read is never taken for one it saw."""

    __tablename__ = "stateless_search_due"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    scored_as_of: Mapped[datetime]  # the moment the run scored as of (for whoever looks)
