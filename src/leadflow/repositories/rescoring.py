"""Bulk re-scoring writes: scores, the ledger and accounts' scores back in big batches.

Writes are driver-level executemany of statements compiled from SQLAlchemy Core; on
PostgreSQL many rows go in through COPY and one set-based statement instead (`_copy`). The
reads a re-score makes are in `rescoring_reads`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Integer,
    String,
    Table,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from leadflow.core.bulk import score_bands
from leadflow.models.account import Account
from leadflow.models.lead import Lead
from leadflow.models.score_ledger import ScoreEntry
from leadflow.repositories._bulk import (
    Same,
    bulk_reads,
    bulk_writes,
    driver_value,
    executemany,
    executemany_each,
    table_of,
    temporary_table,
)
from leadflow.repositories._copy import copy_into, like, staged, use_copy
from leadflow.repositories._rebuild import rewriting

__all__ = ["bulk_reads", "bulk_writes"]


SCORED = ("fit", "engagement", "total", "score_band", "grade", "persona", "contributions",
          "decay_due")  # fmt: skip
RANKS = ("score_band", "grade", "persona")  # what a lead's score ranks it by in the reports


@contextmanager
def rewriting_scores(session: Session, scores: Iterable[str], written: int) -> Iterator[None]:
    """A context for a bulk score write: `written` leads get these score columns. The indexes
    holding them are rebuilt once instead of updated when that is most of the leads
    (`_rebuild`)."""
    moved = [name for name in scores if name in SCORED]
    with rewriting(session, table_of(Lead), written, moved):
        yield


@contextmanager
def rewriting_stamps(session: Session, stamped: int) -> Iterator[None]:
    """A context for `stamped` leads' new `scored_at` and `updated_at` (a re-score's written
    and unchanged leads alike), as `rewriting_scores`."""
    with rewriting(session, table_of(Lead), stamped, ("scored_at", "updated_at")):
        yield


class AsRead(NamedTuple):
    """A condition on each lead written: `expression` (of the lead's row) still has the
    value read (one per row), so a lead written since the read is left as it is."""

    expression: Any
    values: Sequence[int]


def write_lead_scores(
    session: Session,
    scores: dict[str, Sequence[Any]],
    scored_at: Any,
    *,
    same_ranks: bool = False,
    as_read: AsRead | None = None,
) -> list[bool]:
    """Columns `id` and any of `fit`, `engagement`, `total`, `grade`, `persona`,
    `contributions` (JSON text), `decay_due`; every row gets `scored_at` (and `updated_at`).
    With `total` goes its `score_band`, unless the caller knows that no lead's grade, persona
    or band moved (`same_ranks`): those columns are then not set, and the wide indexes
    holding them are left alone. Only the leads `as_read` still holds for, when given. For
    each row, whether its lead was written. A write of many leads runs inside
    `rewriting_scores`."""
    if same_ranks:
        scores = {name: column for name, column in scores.items() if name not in RANKS}
    elif "total" in scores and "score_band" not in scores:
        scores = {**scores, "score_band": banded(scores["total"])}
    names = (*(name for name in SCORED if name in scores), "scored_at")
    if use_copy(session, len(scores["id"])):
        return _update_staged(
            session, table_of(Lead), scores, names[:-1], scored_at, "scored_at", as_read
        )
    values: dict[str, Any] = {name: bindparam(f"p_{name}") for name in names}
    # updated_at moves with the score: CRM syncs read "changed since" (the lead_scores view).
    values["updated_at"] = bindparam("p_scored_at")
    # A JSON column binds through a cast on PostgreSQL; the text goes through as it is.
    if "contributions" in scores:
        values["contributions"] = bindparam("p_contributions", type_=Lead.contributions.type)
    statement = update(table_of(Lead)).where(Lead.id == bindparam("p_id")).values(values)
    columns: dict[str, Any] = {f"p_{name}": scores[name] for name in (*names[:-1], "id")}
    columns["p_scored_at"] = Same(driver_value(session, Lead.scored_at, scored_at))
    if as_read is None:
        executemany(session, statement, columns)
        return [True] * len(scores["id"])
    statement = statement.where(as_read.expression == bindparam("p_as_read"))
    columns["p_as_read"] = as_read.values
    return executemany_each(session, statement, columns)


def banded(totals: Sequence[float]) -> list[int]:
    """The score band of each total (`core.scoring.score_band`)."""
    bands: list[int] = score_bands(np.asarray(totals, np.float64)).tolist()
    return bands


def _update_staged(
    session: Session,
    table: Table,
    rows: dict[str, Sequence[Any]],
    names: Sequence[str],
    at: Any,
    stamped: str | None,
    as_read: AsRead | None = None,
) -> list[bool]:
    """PostgreSQL: COPY `id` and these columns of `rows` into a staging table, then one
    UPDATE ... FROM it; every row also gets `at` as `updated_at` (and as `stamped`); only
    the rows `as_read` holds for, when given. For each row, whether it was written."""
    values = {name: rows[name] for name in ("id", *names)}
    columns = like(table, list(values))
    if as_read is not None:
        values["as_read"] = as_read.values
        columns.append(Column("as_read", BigInteger))
    with staged(session, columns, values) as stage:
        moment = bindparam("p_at", at, type_=table.c.updated_at.type)
        changes: dict[str, Any] = {name: stage.c[name] for name in names}
        changes["updated_at"] = moment
        if stamped is not None:
            changes[stamped] = moment
        statement = update(table).where(table.c.id == stage.c.id).values(changes)
        if as_read is None:
            session.connection().execute(statement)
            return [True] * len(values["id"])
        statement = statement.where(as_read.expression == stage.c.as_read)
        written = session.connection().execute(statement.returning(table.c.id)).scalars()
        found: list[bool] = np.isin(
            np.asarray(values["id"]), np.fromiter(written, np.int64)
        ).tolist()
        return found


def stamp_scored_at(session: Session, scored_at: Any, lead_ids: Sequence[int] | None) -> None:
    """Set `scored_at` (and `updated_at`, as `write_lead_scores` does: the CRM view shows
    `scored_at`) of these leads (None: of every lead not already stamped so)."""
    lead = table_of(Lead)
    if lead_ids is None:
        at = bindparam("p_at", scored_at, type_=lead.c.scored_at.type)
        stale = lead.c.scored_at.is_distinct_from(at)
        session.execute(update(lead).where(stale).values(scored_at=at, updated_at=at))
        return
    if use_copy(session, len(lead_ids)):
        _update_staged(session, lead, {"id": list(lead_ids)}, (), scored_at, "scored_at")
        return
    at_value: Any = bindparam("p_at")
    statement = (
        update(lead)
        .where(lead.c.id == bindparam("p_id"))
        .values(scored_at=at_value, updated_at=at_value)
    )
    driver_at = Same(driver_value(session, Lead.scored_at, scored_at))
    executemany(session, statement, {"p_id": list(lead_ids), "p_at": driver_at})


def append_ledger(
    session: Session, entries: dict[str, Sequence[Any]], *, at: Any, cause: str
) -> None:
    """Columns `lead_id`, `fit`, `engagement`, `total`, `grade`, `delta_total`."""
    columns: dict[str, Any] = {
        **entries,
        "at": Same(driver_value(session, ScoreEntry.at, at)),
        "cause": Same(cause),
    }
    if use_copy(session, len(entries["lead_id"])):  # straight in: a ledger is only appended
        shared = {k: repeat(v.value) if isinstance(v, Same) else v for k, v in columns.items()}
        copy_into(session, table_of(ScoreEntry), shared)
        return
    statement = insert(table_of(ScoreEntry)).values({name: bindparam(name) for name in columns})
    executemany(session, statement, columns)


def append_ledger_of_leads(
    session: Session, deltas: dict[str, Sequence[Any]], *, at: Any, cause: str
) -> None:
    """Ledger entries for leads whose scores were just written: columns `lead_id` and
    `delta_total`; fit, engagement, total and grade are copied from the lead rows in SQL, so
    only two values a lead pass through the driver."""
    if not deltas["lead_id"]:
        return
    columns = [
        Column("lead_id", Integer, primary_key=True),
        Column("delta_total", Double, nullable=False),
    ]
    with temporary_table(session, "leadflow_deltas", columns, deltas) as table:
        lead, entry = table_of(Lead), table_of(ScoreEntry)
        query = (
            select(
                lead.c.id,
                lead.c.fit,
                lead.c.engagement,
                lead.c.total,
                lead.c.grade,
                table.c.delta_total,
                literal(at, entry.c.at.type),
                literal(cause, String),
            )
            .join_from(table, lead, lead.c.id == table.c.lead_id)
            .order_by(table.c.lead_id)
        )
        names = ["lead_id", "fit", "engagement", "total", "grade", "delta_total", "at", "cause"]
        session.connection().execute(insert(entry).from_select(names, query))


def write_account_scores(session: Session, scores: dict[str, Sequence[Any]], at: Any) -> None:
    """Columns `id`, `fit`, `engagement`, `total`, `engaged_leads`, `tier`."""
    names = ("fit", "engagement", "total", "engaged_leads", "tier")
    if use_copy(session, len(scores["id"])):
        _update_staged(session, table_of(Account), scores, names, at, None)
        return
    values: dict[str, Any] = {name: bindparam(f"p_{name}") for name in (*names, "updated_at")}
    statement = update(table_of(Account)).where(Account.id == bindparam("p_id")).values(values)
    columns: dict[str, Any] = {f"p_{name}": scores[name] for name in (*names, "id")}
    columns["p_updated_at"] = Same(driver_value(session, Account.updated_at, at))
    executemany(session, statement, columns)
