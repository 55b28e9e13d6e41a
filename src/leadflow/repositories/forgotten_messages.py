"""Tracking messages acknowledged and not kept, by source and the hash of their id.

Both statements run for tracking calls (the lookup for every one), so on the driver's cursor
(`_hot`), built once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

from leadflow.models.privacy import ForgottenMessage
from leadflow.repositories import _hot
from leadflow.repositories._sql import dialect_insert, table_of

_FORGOTTEN = select(ForgottenMessage.message_hash).where(
    ForgottenMessage.source == bindparam("source", ""),  # a value, as `_hot` compiles it with
    ForgottenMessage.message_hash.in_(bindparam("hashes", expanding=True)),
)


def known(session: Session, source: str, hashes: Iterable[str]) -> set[str]:
    """Which of these message hashes this source's forgotten messages have."""
    rows = _hot.run_listed(session, "forgotten_messages", _FORGOTTEN, sorted(set(hashes)),
                           {"source": source}, name="hashes")  # fmt: skip
    return {str(found) for (found,) in rows}


def remember(session: Session, pairs: Iterable[tuple[str, str]], at: datetime) -> set[str]:
    """Keep these (source, message hash) pairs; the hashes new here (one kept before, or by a
    transaction committed meanwhile, is not: its message is a replay)."""
    rows = [{"source": s, "message_hash": h, "forgotten_at": at} for s, h in sorted(set(pairs))]
    if not rows:
        return set()
    built = partial(_insert_some, session)
    returned = _hot.run_rows(session, "forgotten_messages_insert", built, rows)
    return {str(found) for (found,) in returned}


def _insert_some(session: Session, names: Sequence[str], count: int) -> ClauseElement:
    """INSERT of `count` rows (`_hot.row_values`), skipping kept ones, RETURNING the new."""
    table = table_of(ForgottenMessage)
    return (
        dialect_insert(session, table)
        .values(_hot.row_values(table, names, count))
        .on_conflict_do_nothing(index_elements=["source", "message_hash"])
        .returning(table.c.message_hash)
    )
