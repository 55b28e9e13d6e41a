"""Engagement state per lead and rule, and the accounts' roll-ups: read, write, forget.

Both are derived data. Whatever changes whose events a lead has (a bulk insert, an anonymous
history attributed, a merge) forgets the lead's state here, and it is rebuilt from the events
the next time the lead is scored; a forgotten roll-up is re-added from its leads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from leadflow.core.engagement_state import epoch_micros
from leadflow.models.lead import Lead
from leadflow.models.rule_state import AccountMember, AccountRollup, RuleState
from leadflow.repositories import _hot, shadow
from leadflow.repositories._bulk import by_ids, fetch
from leadflow.repositories._driver import insert_rows
from leadflow.repositories._sql import chunked, dialect_insert, table_of

NO_TIME = -(2**63)  # a window not yet full
NOT_KNOWN = 0  # a lead's `decay_due` when its states changed: the next decay pass reads it


IDS: Any = bindparam("ids", expanding=True)
# Built once: the per-event path runs these on every call, and SQLAlchemy then reuses their
# compiled form from its cache instead of building and compiling a statement each time. They
# run on the connection (Core): these tables are only ever written with Core, so nothing of
# theirs waits in the ORM to be flushed.
_READ = select(table_of(RuleState)).where(table_of(RuleState).c.lead_id.in_(IDS))
_MEMBERS = select(table_of(AccountMember)).where(table_of(AccountMember).c.lead_id.in_(IDS))
_ROLLUPS = select(table_of(AccountRollup)).where(table_of(AccountRollup).c.account_id.in_(IDS))
_upserts: dict[tuple[str, str], Any] = {}


def _upsert(session: Session, table: Table, keys: Sequence[str]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE every other column, built once per dialect."""
    dialect = session.get_bind().dialect.name
    found = _upserts.get((dialect, table.name))
    if found is None:
        statement = dialect_insert(session, table)
        others = [c.key for c in table.columns if c.key not in keys]
        found = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in others}
        )
        _upserts[(dialect, table.name)] = found
    return found


def read(session: Session, lead_ids: Iterable[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """The stored states of these leads, by lead and rule."""
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for batch in chunked(sorted(set(lead_ids))):
        for row in session.connection().execute(_READ, {"ids": batch}).mappings():
            found.setdefault(row["lead_id"], {})[row["rule_id"]] = dict(row)
    return found


def write(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store these states, replacing what the same lead and rule had."""
    # A tracking call's lead (a few rules): on the driver's cursor, one multi-row upsert a
    # piece, which may name a lead and rule once only (PostgreSQL refuses a row changed twice).
    if rows and len(rows) <= _hot.IN_SIZES[-1] and _each_once(rows):
        _hot.run_rows(session, "rule_states_upsert", partial(_upsert_some, session), rows)
    else:
        statement = _upsert(session, table_of(RuleState), ("lead_id", "rule_id"))
        for batch in chunked(rows, 1000):
            session.connection().execute(statement, batch)
    _unknown(session, {row["lead_id"] for row in rows})


# A lead whose states changed: when its points next change is not known (`Lead.decay_due`).
_UNKNOWN = (
    update(table_of(Lead))
    .where(table_of(Lead).c.id.in_(IDS))
    .where(table_of(Lead).c.decay_due.is_distinct_from(literal(NOT_KNOWN, BigInteger)))
    .values(decay_due=literal(NOT_KNOWN, BigInteger))
)


def _unknown(session: Session, lead_ids: Iterable[int]) -> None:
    """These leads' states changed: the next decay pass reads them (`Lead.decay_due`). Left
    alone where already not known: no index entry rewritten for nothing."""
    wanted = sorted(set(lead_ids))
    if wanted:
        _hot.run_listed(session, "leads_decay_unknown", _UNKNOWN, wanted)


def _each_once(rows: Sequence[dict[str, Any]]) -> bool:
    return len({(row["lead_id"], row["rule_id"]) for row in rows}) == len(rows)


def _upsert_some(session: Session, names: Sequence[str], count: int) -> Any:
    """INSERT of `count` states (`_hot.row_values`) replacing the same lead and rule's."""
    table = table_of(RuleState)
    statement = dialect_insert(session, table).values(_hot.row_values(table, names, count))
    others = [n for n in names if n not in ("lead_id", "rule_id")]
    return statement.on_conflict_do_update(
        index_elements=["lead_id", "rule_id"], set_={n: statement.excluded[n] for n in others}
    )


def replace(
    session: Session, rows: Sequence[dict[str, Any]], lead_ids: Iterable[int] | None
) -> None:
    """The states of these leads (of all when None) become `rows`: a bulk rebuild. The leads
    with rows get their moment of change "not known", the others none (`Lead.decay_due`)."""
    table, leads = table_of(RuleState), table_of(Lead)
    if lead_ids is None:
        session.execute(delete(table))
        session.execute(update(leads).where(leads.c.decay_due.is_not(None)).values(decay_due=None))
    else:
        for batch in chunked(sorted(set(lead_ids))):
            session.execute(delete(table).where(table.c.lead_id.in_(batch)))
    for chunk in chunked(rows):
        insert_rows(session, table, chunk)
    with_rows = {row["lead_id"] for row in rows}
    _unknown(session, with_rows)
    for batch in chunked(sorted(set(lead_ids or ()) - with_rows)):
        session.execute(update(leads).where(leads.c.id.in_(batch)).values(decay_due=None))


def forget(session: Session, lead_ids: Iterable[int]) -> None:
    """The events of these leads changed hands: drop their states and their accounts' roll-ups."""
    states, members, leads = table_of(RuleState), table_of(AccountMember), table_of(Lead)
    ids = sorted(set(lead_ids))
    for batch in chunked(ids):
        session.execute(delete(states).where(states.c.lead_id.in_(batch)))
        session.execute(update(leads).where(leads.c.id.in_(batch)).values(decay_due=None))
        forget_rollups(session, select(members.c.account_id).where(members.c.lead_id.in_(batch)))
    shadow.forget_states(session, ids)


def unsettle(session: Session, lead_ids: Sequence[int] | None, now: datetime) -> None:
    """These leads (all when None) were just scored at `now`, which need not be the present
    (`rescore --at`): those whose points may differ between `now` and another moment (due
    by `now`, or with events after it, which `now` did not count) get their moment of change
    "not known" (`Lead.decay_due`), so the next decay pass reads them and scores the present."""
    leads = table_of(Lead)
    known = leads.c.decay_due.is_not(None) & (leads.c.decay_due != NOT_KNOWN)
    moved = (leads.c.decay_due <= epoch_micros(now)) | (leads.c.last_event_at > now)
    clear = update(leads).where(known, moved).values(decay_due=NOT_KNOWN)
    if lead_ids is None:
        session.execute(clear)
        return
    for batch in chunked(sorted(set(lead_ids))):
        session.execute(clear.where(leads.c.id.in_(batch)))


def forget_rollups(session: Session, account_ids: Any = None) -> None:
    """Drop roll-ups (of these account ids, or of a subquery of them; all when None)."""
    table = table_of(AccountRollup)
    statement = delete(table)
    if isinstance(account_ids, list | set | tuple):
        for batch in chunked(sorted(account_ids)):
            session.execute(statement.where(table.c.account_id.in_(batch)))
        return
    if account_ids is not None:
        statement = statement.where(table.c.account_id.in_(account_ids))
    session.execute(statement)


def forget_rollups_of(session: Session, lead_ids: Iterable[int] | None) -> None:
    """Leads were re-scored in bulk: drop the roll-ups of their accounts (all when None)."""
    if lead_ids is None:
        forget_rollups(session)
        return
    for batch in chunked(sorted(set(lead_ids))):
        forget_rollups(session, select(Lead.account_id).where(Lead.id.in_(batch)))


def members(session: Session, lead_ids: Iterable[int]) -> dict[int, tuple[int, int, bool]]:
    """What each lead's account roll-up counts of it: (account id, hundredths, engaged)."""
    # On the driver's cursor (`_hot`): every scored event asks.
    rows = _hot.run_listed(session, "account_members", _MEMBERS, sorted(set(lead_ids)))
    return {
        int(lead_id): (int(account_id), int(points), bool(engaged))
        for lead_id, account_id, points, engaged in rows
    }


def rollups(session: Session, account_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The stored roll-ups of these accounts."""
    names = [str(column.key) for column in _ROLLUPS.selected_columns]
    rows = _hot.run_listed(session, "account_rollups", _ROLLUPS, sorted(set(account_ids)))
    found = [dict(zip(names, row, strict=True)) for row in rows]
    return {int(rollup["account_id"]): rollup for rollup in found}


def rebuild_rollups(session: Session, account_ids: Sequence[int], engaged_min: float) -> None:
    """Count every lead of these accounts afresh (members and roll-ups), in SQL."""
    members_t, rollups_t = table_of(AccountMember), table_of(AccountRollup)
    for batch in chunked(sorted(set(account_ids))):
        here = select(Lead.id).where(Lead.account_id.in_(batch))
        moved_from = select(members_t.c.account_id).where(
            members_t.c.lead_id.in_(here), members_t.c.account_id.not_in(batch)
        )
        forget_rollups(session, moved_from)  # their sums counted a lead that has moved on
        session.execute(
            delete(members_t).where(
                members_t.c.account_id.in_(batch) | members_t.c.lead_id.in_(here)
            )
        )
        hundredths = case(
            (
                Lead.engagement > 0,
                cast(func.round(Lead.engagement * 100), members_t.c.hundredths.type),
            ),
            else_=literal(0),
        )
        source = select(Lead.id, Lead.account_id, hundredths, Lead.engagement >= engaged_min).where(
            Lead.account_id.in_(batch)
        )
        session.execute(
            insert(members_t).from_select(
                ["lead_id", "account_id", "hundredths", "engaged"], source
            )
        )
        session.execute(delete(rollups_t).where(rollups_t.c.account_id.in_(batch)))
        sums = dict.fromkeys(batch, (0, 0, 0))
        query = (
            select(
                members_t.c.account_id,
                func.sum(members_t.c.hundredths),
                func.sum(cast(members_t.c.engaged, Integer)),
                func.count(),
            )
            .where(members_t.c.account_id.in_(batch))
            .group_by(members_t.c.account_id)
        )
        for account_id, total, engaged, count in session.execute(query):
            sums[account_id] = (int(total or 0), int(engaged or 0), int(count))
        rows = [
            {"account_id": a, "hundredths": h, "engaged": e, "leads": n, "engaged_min": engaged_min}
            for a, (h, e, n) in sums.items()
        ]
        insert_rows(session, rollups_t, rows)


def save_members(
    session: Session, rows: Sequence[dict[str, Any]], gone: Iterable[int] = ()
) -> None:
    """Store what the roll-ups count of these leads; `gone`: leads no account counts."""
    table = table_of(AccountMember)
    for batch in chunked(sorted(set(gone))):
        session.execute(delete(table).where(table.c.lead_id.in_(batch)))
    if rows:
        session.connection().execute(_upsert(session, table, ("lead_id",)), list(rows))


def save_rollups(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store these accounts' roll-ups."""
    if rows:
        upsert = _upsert(session, table_of(AccountRollup), ("account_id",))
        session.connection().execute(upsert, list(rows))


def state_rows(
    session: Session, rule_ids: Sequence[str], key: str, lead_ids: Sequence[int] | None
) -> list[tuple[Any, ...]]:
    """Stored states as plain numeric rows (lead_id, rule index in `rule_ids` or -1, 1 when
    its rule_key is `key`, count, band or 0, anchored or 0, window_from or -2**63), of these
    leads or of all."""
    table = table_of(RuleState)
    index = case(
        *((table.c.rule_id == r, literal(k)) for k, r in enumerate(rule_ids)), else_=literal(-1)
    )
    query = select(
        table.c.lead_id,
        index,
        case((table.c.rule_key == key, literal(1)), else_=literal(0)),
        table.c.count,
        func.coalesce(table.c.band, 0),
        func.coalesce(table.c.anchored, 0.0),
        func.coalesce(table.c.window_from, literal(NO_TIME, BigInteger)),
    )
    rows: list[tuple[Any, ...]] = []
    for part in by_ids(session, query, table.c.lead_id, lead_ids):
        for chunk in fetch(session, part):
            rows += chunk
    return rows


def score_columns(session: Session, lead_ids: Sequence[int]) -> dict[str, list[Any]]:
    """Of these leads: id, fit, total, persona, account_id and contributions as stored text."""
    names = ("id", "fit", "total", "persona", "account_id")
    text = cast(Lead.contributions, String).label("contributions")
    query = select(*(getattr(Lead, n) for n in names), text)
    rows: list[Any] = []
    for batch in chunked(sorted(set(lead_ids))):
        rows += session.execute(query.where(Lead.id.in_(batch))).all()
    keys = (*names, "contributions")
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in keys]
    return dict(zip(keys, columns, strict=True))
