"""Accounts: lookups, bulk upsert by domain, and bulk score updates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from leadflow.models.account import Account
from leadflow.models.account_alias import AccountAlias
from leadflow.models.lead import Lead
from leadflow.repositories._sql import (
    ROW_LOCK,
    chunked,
    insert_new_only,
    normalize_key,
    table_of,
    upsert_by_key,
)

SCORE_COLUMNS = frozenset({"id", "fit", "engagement", "total", "engaged_leads", "tier"})
# The account's own facts an import or a message's traits may fill in (`filled_in`).
FILLED_IN = frozenset({"name", "industry", "employees", "annual_revenue", "country"})


def get(session: Session, account_id: int) -> Account | None:
    """The account with this id."""
    return session.get(Account, account_id)


# Built once: read for every scored lead (a statement SQLAlchemy has seen is not rebuilt).
_BY_IDS = (
    select(Account).where(Account.id.in_(bindparam("ids", expanding=True))).order_by(Account.id)
)


def get_many(session: Session, account_ids: Iterable[int | None]) -> list[Account]:
    """The accounts with these ids (None ignored), by id."""
    wanted = sorted({i for i in account_ids if i is not None})
    found: list[Account] = []
    for batch in chunked(wanted):
        found.extend(session.scalars(_BY_IDS, {"ids": batch}))
    return found


def get_by_domain(session: Session, domain: str) -> Account | None:
    """The account with this domain (case-insensitive)."""
    return session.scalar(select(Account).where(Account.domain == normalize_key(domain)))


def get_by_domain_or_alias(session: Session, domain: str) -> Account | None:
    """The account with this domain, or the one a merged account with it joined."""
    found = get_by_domain(session, domain)
    if found is None:
        joined = session.scalar(_ALIASED, {"domain": normalize_key(domain)})
        found = None if joined is None else get(session, joined)
    return found


# Built once: run for every account a tracking call rolls up.
_LOCK = (
    select(Account.id)
    .where(Account.id.in_(bindparam("ids", expanding=True)))
    .order_by(Account.id)
    .with_for_update(**ROW_LOCK)
)


def lock(session: Session, account_ids: Iterable[int]) -> None:
    """Hold these accounts' rows until the commit (PostgreSQL; SQLite has one writer anyway),
    taken in id order so that writers of overlapping accounts queue rather than deadlock.
    On SQLite the statement would lock nothing (no FOR UPDATE there), so it is not run."""
    if session.get_bind().dialect.name == "sqlite":
        return
    for batch in chunked(sorted(set(account_ids))):
        session.execute(_LOCK, {"ids": batch}).all()


def list_all(session: Session) -> list[Account]:
    """Every account, by domain."""
    return list(session.scalars(select(Account).order_by(Account.domain)))


def upsert_many(
    session: Session, rows: Sequence[dict[str, Any]], *, fill_only: bool = False
) -> int:
    """Insert accounts with new domains and merge the rest (see `upsert_by_key`); count both.
    A row for a merged account's old domain goes to the account it joined."""
    merged = _alias_targets(session, [str(row["domain"]) for row in rows])
    if merged:
        rows = [{**row, "domain": merged[row["domain"]]} if row["domain"] in merged else row
                for row in rows]  # fmt: skip
    return upsert_by_key(session, Account, Account.domain, rows, fill_only=fill_only)


_ID_BY_DOMAIN = select(Account.id).where(Account.domain == bindparam("domain"))
_ALIASED = select(AccountAlias.account_id).where(AccountAlias.domain == bindparam("domain"))


def id_for_domain(session: Session, domain: str, now: datetime) -> int:
    """The id of the account with this domain (or the one a merged account's domain leads
    to), created with the domain as its name when there is none: what `upsert_many` with no
    other fields and `ids_by_domain` give, in one to three statements built once (a new
    person's first event runs this)."""
    key = normalize_key(domain) or ""
    connection = session.connection()
    found = connection.execute(_ID_BY_DOMAIN, {"domain": key}).scalar()
    if found is None:
        found = connection.execute(_ALIASED, {"domain": key}).scalar()
    if found is None:
        row = {"domain": key, "name": key, "created_at": now, "updated_at": now}
        new = insert_new_only(session, Account, ["domain"], ["id"])
        found = connection.execute(new, row).scalar()
    if found is None:  # another transaction created it since we looked
        found = connection.execute(_ID_BY_DOMAIN, {"domain": key}).scalar()
    assert found is not None, f"account {key} neither found nor created"
    return int(found)


def ids_by_domain(session: Session, domains: Iterable[str] | None = None) -> dict[str, int]:
    """Account ids keyed by domain: all of them, or only those for `domains`; a merged
    account's old domain gives the account it joined."""
    query = select(Account.domain, Account.id)
    aliases = select(AccountAlias.domain, AccountAlias.account_id)
    if domains is None:
        return {**dict(session.execute(aliases).all()), **dict(session.execute(query).all())}
    wanted = {d for d in map(normalize_key, domains) if d}
    found: dict[str, int] = {}
    for batch in chunked(wanted):
        found.update(session.execute(aliases.where(AccountAlias.domain.in_(batch))).all())
        found.update(session.execute(query.where(Account.domain.in_(batch))).all())
    return found


def filled_in(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """The stored accounts a `fill_only` upsert of these rows would change: a column a row
    gives a value that is empty there (by domain, or the account a merged domain joined).
    Read with Core: no account object is loaded."""
    keys = [normalize_key(row["domain"]) or "" for row in rows]
    joined = _alias_targets(session, keys)
    given: dict[str, set[str]] = {}
    for key, row in zip(keys, rows, strict=True):
        filled = {c for c, v in row.items() if v is not None and c in FILLED_IN}
        given.setdefault(joined.get(key, key), set()).update(filled)
    columns = sorted({c for named in given.values() for c in named})
    if not columns:
        return []
    table = table_of(Account)
    query = select(table.c.id, table.c.domain, *(table.c[c] for c in columns))
    found: list[int] = []
    for batch in chunked(sorted(given)):
        for stored_row in session.execute(query.where(table.c.domain.in_(batch))):
            stored = stored_row._mapping
            if any(stored[c] is None for c in given[stored["domain"]]):
                found.append(int(stored["id"]))
    return sorted(found)


def _alias_targets(session: Session, domains: Iterable[str]) -> dict[str, str]:
    """Old domains of merged accounts among `domains`, each with its account's domain now."""
    query = select(AccountAlias.domain, Account.domain).join(
        Account, Account.id == AccountAlias.account_id
    )
    found: dict[str, str] = {}
    for batch in chunked(set(domains)):
        found.update(session.execute(query.where(AccountAlias.domain.in_(batch))).all())
    return found


def keep_alias(session: Session, merged: Account, into: int, now: Any) -> None:
    """Before `merged` is removed: its domain, and the domains merged into it earlier, lead
    to account `into` from now on."""
    session.execute(
        update(AccountAlias).where(AccountAlias.account_id == merged.id).values(account_id=into)
    )
    session.add(AccountAlias(domain=merged.domain, account_id=into, created_at=now))
    session.flush()


def update_scores_bulk(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write account scores (id, fit, engagement, total, engaged_leads, tier) in one executemany."""
    if rows:
        session.execute(update(Account), [_only(row, SCORE_COLUMNS) for row in rows])


def _only(row: dict[str, Any], columns: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in columns}


def list_page(
    session: Session, *, tier: str | None, limit: int, offset: int
) -> tuple[list[Account], int]:
    """Accounts by total score, highest first, optionally of one tier; and how many match."""
    query = select(Account)
    counted = select(func.count()).select_from(Account)
    if tier is not None:
        query, counted = query.where(Account.tier == tier), counted.where(Account.tier == tier)
    page = query.order_by(Account.total.desc(), Account.id).limit(limit).offset(offset)
    return list(session.scalars(page)), int(session.scalar(counted) or 0)


def names(session: Session) -> list[tuple[int, str, str]]:
    """Every account's id, name and domain (what company names are matched against)."""
    query = select(Account.id, Account.name, Account.domain).order_by(Account.id)
    return [(row[0], row[1], row[2]) for row in session.execute(query)]


def move_leads(session: Session, from_account: int, to_account: int, reason: str) -> list[int]:
    """Move every lead of one account to another; the ids moved."""
    moved = list(session.scalars(select(Lead.id).where(Lead.account_id == from_account)))
    statement = (
        update(Lead)
        .where(Lead.account_id == from_account)
        .values(account_id=to_account, account_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(statement)
    return moved


def delete(session: Session, account: Account) -> None:
    """Remove an account (its leads must have moved: they would lose it)."""
    session.delete(account)
    session.flush()


def ambiguous_leads(session: Session, prefixes: Sequence[str], below: float) -> list[Any]:
    """Leads whose account match is reported (reason starting with one of `prefixes`, or a
    name match under `below` confidence), with their account's domain."""
    conditions = [Lead.account_reason.like(f"{p}%") for p in prefixes]
    query = (
        select(
            Lead.id,
            Lead.email,
            Lead.account_id,
            Account.domain,
            Lead.account_confidence,
            Lead.account_reason,
        )
        .outerjoin(Account, Account.id == Lead.account_id)
        .where(or_(*conditions))
        .where(or_(Lead.account_id.is_(None), Lead.account_confidence < below))
        .order_by(Lead.account_confidence.desc(), Lead.id)
    )
    return list(session.execute(query))
