"""Bulk re-scoring reads: lead, account and event columns out of SQL.

Reads return plain columns (lists) rather than objects: a million leads and ten million events
cannot afford an ORM object, or even a parsed JSON document, per row. JSON values are read as
their JSON text (`->`), decoded later once per distinct value; times as integer microseconds.
On SQLite every lead is read as Arrow columns by a child process (`_arrow`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Text,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from leadflow.core.facts import COMPUTED_COLUMNS
from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories import _arrow
from leadflow.repositories._bulk import (
    Columns,
    by_ids,
    email_tail,
    epoch_micros,
    fetch,
    json_text,
    read_columns,
    select_labeled,
    table_of,
)

__all__ = ["Columns", "LeadSelection"]


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
        if name in COMPUTED_COLUMNS:  # never read from an attribute: no fallback
            continue
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
    then reads; none for `COMPUTED_COLUMNS`), `attribute.K`, `account.F`,
    `account_attribute.K` (JSON texts), and with `whole` the `lead` and `account` rows as
    dicts (None: no account).
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
