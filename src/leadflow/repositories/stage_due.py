"""Accounts whose other leads' stages are due (`account_stage_due`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadflow.models.stage_due import AccountStageDue
from leadflow.repositories._sql import chunked, insert_new_only


def mark(session: Session, account_ids: Iterable[int], now: datetime) -> None:
    """These accounts' leads are due for the stage step (kept once, from the first time)."""
    rows = [{"account_id": a, "since": now} for a in sorted(set(account_ids))]
    if rows:
        statement = insert_new_only(session, AccountStageDue, ["account_id"], ["account_id"])
        session.connection().execute(statement, rows)


def take(session: Session) -> list[int]:
    """Every due account, no longer due once this transaction commits."""
    found = list(session.scalars(select(AccountStageDue.account_id).order_by("account_id")))
    for batch in chunked(found):
        session.execute(delete(AccountStageDue).where(AccountStageDue.account_id.in_(batch)))
    return found
