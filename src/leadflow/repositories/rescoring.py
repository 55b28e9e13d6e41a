"""Bulk re-scoring SQL: lead, account and event columns out, scores back in big batches.

Reads return plain columns (lists) rather than objects: a million leads and ten million events
cannot afford an ORM object, or even a parsed JSON document, per row. JSON values are read as
their JSON text (`->`), decoded later once per distinct value; times as integer microseconds.
Writes are driver-level executemany of statements compiled from SQLAlchemy Core; on
PostgreSQL many rows go in through COPY and one set-based statement instead (`_copy`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from leadflow.core.bulk import score_bands
from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.score_ledger import ScoreEntry
from leadflow.repositories import _arrow
from leadflow.repositories._bulk import (
    Columns,
    Same,
    bulk_reads,
    bulk_writes,
    by_ids,
    driver_value,
    email_tail,
    epoch_micros,
    executemany,
    executemany_each,
    fetch,
    json_text,
    read_columns,
    select_labeled,
    table_of,
    temporary_table,
)
from leadflow.repositories._copy import copy_into, like, staged, use_copy
from leadflow.repositories._rebuild import rewriting

__all__ = ["Columns", "LeadSelection", "bulk_reads", "bulk_writes"]


@dataclass(frozen=True, slots=True)
class LeadSelection:
    """Which lead and account values to read (see `read_leads` for the column names)."""

    lead_fields: Sequence[str] = ()
    lead_attributes: Sequence[str] = ()
    account_fields: Sequence[str] = ()
    account_attributes: Sequence[str] = ()
    email_tail: bool = False
    whole: bool = False


def _lead_exprs(session: Session, selection: LeadSelection) -> dict[str, Any]:
    """What `read_leads` selects (but the whole rows), by column name."""
    exprs: dict[str, Any] = {
        "id": Lead.id,
        "total": Lead.total,
        "score_band": Lead.score_band,
        "account_id": Lead.account_id,
        "domain": Account.domain,
        "fit": Lead.fit,
        "engagement": Lead.engagement,
        "grade": Lead.grade,
        "persona": Lead.persona,
        "contributions": cast(Lead.contributions, Text),
    }
    for name in selection.lead_fields:
        column = getattr(Lead, name)
        exprs[f"lead.{name}"] = column
        fallback = json_text(session, Lead.attributes, [name])
        exprs[f"lead.{name}?"] = case((column.is_(None), fallback), else_=None)
    if selection.email_tail:
        exprs["email_tail"] = email_tail(session, Lead.email)
        exprs["email?"] = case(
            (Lead.email.is_(None), json_text(session, Lead.attributes, ["email"])), else_=None
        )
    for key in selection.lead_attributes:
        exprs[f"attribute.{key}"] = json_text(session, Lead.attributes, [key])
    for name in selection.account_fields:
        exprs[f"account.{name}"] = getattr(Account, name)
    for key in selection.account_attributes:
        exprs[f"account_attribute.{key}"] = json_text(session, Account.attributes, [key])
    return exprs


def _leads_query(exprs: dict[str, Any]) -> Any:
    return (
        select_labeled(exprs)
        .select_from(Lead)
        .outerjoin(Account, Lead.account_id == Account.id)
        .order_by(Lead.id)
    )


def read_leads(
    session: Session, selection: LeadSelection, lead_ids: Iterable[int] | None = None
) -> Columns:
    """Leads by id with their accounts, as columns.

    Always: `id`, `total`, `account_id`, `domain`, and the stored `fit`, `engagement`,
    `grade`, `persona` and `contributions` (JSON text). Then `lead.F` (with `lead.F?` holding
    the JSON text of the lead's attribute F where the column is NULL, which is what the core
    then reads), `attribute.K`, `account.F`, `account_attribute.K` (JSON texts), and with
    `whole` the `lead` and `account` rows as dicts (None: no account).
    """
    exprs = _lead_exprs(session, selection)
    tables = {"lead": table_of(Lead), "account": table_of(Account)}
    if selection.whole:
        for prefix, table in tables.items():
            exprs.update({f"{prefix}:{c.name}": c for c in table.columns})
    columns = read_columns(session, exprs, _leads_query(exprs), Lead.id, lead_ids)
    if selection.whole:
        for prefix, table in tables.items():
            names = [c.name for c in table.columns]
            values = zip(*(columns.pop(f"{prefix}:{n}") for n in names), strict=True)
            columns[prefix] = [_row(names, v) for v in values]
        has_account = columns["account_id"]
        columns["account"] = [
            a if has else None for a, has in zip(columns["account"], has_account, strict=True)
        ]
    return columns


def read_leads_arrow(session: Session, selection: LeadSelection) -> dict[str, Any] | None:
    """Every lead as `read_leads` gives them (not `whole`), as Arrow arrays, read by a child
    process (`_arrow`); None when no child may read for this session or a column holds values
    of another type than its own (SQLite keeps e.g. text that is no number in an INTEGER
    column), which rows then read exactly."""
    database = _arrow.readable_path(session)
    if database is None or selection.whole:
        return None
    exprs = _lead_exprs(session, selection)
    query = _leads_query(exprs).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    try:  # typed from all rows, a column of mixed types comes out as text or bytes
        table = _arrow.read(database, str(query), whole=True)
    except RuntimeError as error:
        _arrow.log.warning("%s; reading rows instead", error)
        return None
    columns = {name: table.column(i).combine_chunks() for i, name in enumerate(exprs)}
    if not all(_arrow.typed_as(columns[name], e.type) for name, e in exprs.items()):
        return None
    return columns


def _row(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A whole row as a dict, its JSON text (SQLite) decoded."""
    row = dict(zip(names, values, strict=True))
    if isinstance(row.get("attributes"), str):
        row["attributes"] = json.loads(row["attributes"])
    return row


def read_accounts(
    session: Session,
    fields: Sequence[str],
    attributes: Sequence[str],
    account_ids: Iterable[int] | None = None,
) -> Columns:
    """Accounts by id: `id`, `domain`, `account.F` and `account_attribute.K` (JSON texts)."""
    exprs: dict[str, Any] = {"id": Account.id, "domain": Account.domain}
    exprs.update({f"account.{name}": getattr(Account, name) for name in fields})
    exprs.update(
        {f"account_attribute.{k}": json_text(session, Account.attributes, [k]) for k in attributes}
    )
    query = select_labeled(exprs).order_by(Account.id)
    return read_columns(session, exprs, query, Account.id, account_ids)


def lead_engagement(session: Session, account_ids: Iterable[int]) -> Columns:
    """`account_id` and `engagement` of every lead of these accounts."""
    exprs = {"account_id": Lead.account_id, "engagement": Lead.engagement}
    return read_columns(session, exprs, select_labeled(exprs), Lead.account_id, account_ids)


def read_events(
    session: Session, paths: Sequence[str], *, lead_ids: Iterable[int] | None = None
) -> Iterator[list[tuple[Any, ...]]]:
    """Events of leads, in chunks of rows (lead_id, type, name, occurred_us, *where texts):
    each where text is the JSON text at one of `paths` (inside `properties` or `context`)."""
    micros = func.coalesce(Event.occurred_us, epoch_micros(session, Event.occurred_at))
    exprs = [Event.lead_id, Event.type, Event.name, micros]
    query: Any = select(
        *(e.label(f"c{i}") for i, e in enumerate([*exprs, *_where_texts(session, paths)]))
    )
    query = query.where(Event.lead_id.is_not(None))
    for part in by_ids(session, query, Event.lead_id, lead_ids):
        yield from fetch(session, part)


def _where_texts(session: Session, paths: Sequence[str]) -> list[Any]:
    """The JSON text at each `where` path of an event (NULL when absent)."""
    texts = []
    for path in paths:
        root, *keys = path.split(".")
        column = Event.properties if root == "properties" else Event.context
        texts.append(json_text(session, column, keys) if keys else cast(column, Text))
    return texts


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
