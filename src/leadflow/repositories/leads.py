"""Leads: lookups, bulk upsert by e-mail, scores and stages (their facts for bulk stage
moves and scoring: `stage_facts`; ranked lists: `lead_lists`).

The lead an e-mail names is the lead whose own address it is, else the lead a merge folded
the lead that had it into (`fold_email`: kept as an `email:` identity key). Every lookup by
e-mail here answers so (`get_by_email`, `get_or_create`, `claim_email`, `upsert_many`,
`ids_by_email`, `account_ids_by_email`), and none makes a lead with an address so folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadflow.core.addresses import email_identity
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.assignment import Assignment
from leadflow.models.event import Event
from leadflow.models.identity import Identity
from leadflow.models.lead import Lead
from leadflow.models.outbox import Notification
from leadflow.models.score_ledger import ScoreEntry
from leadflow.models.stage_change import StageChange
from leadflow.repositories import identities, lead_activity, rule_state
from leadflow.repositories._bulk import by_ids
from leadflow.repositories._copy import like, staged, use_copy
from leadflow.repositories._driver import select_dicts, update_by_id
from leadflow.repositories._sql import (
    ROW_LOCK,
    chunked,
    insert_new_only,
    table_of,
    upsert_by_key,
)


def email_key(value: Any) -> str | None:
    """An e-mail as leads keep it (`addresses.email_identity`), whatever its spelling."""
    return (email_identity(value) or None) if isinstance(value, str) else None


def get(session: Session, lead_id: int, *, lock: bool = False) -> Lead | None:
    """The lead with this id; `lock`: read afresh and held (see `ROW_LOCK`) until the commit."""
    if lock:
        return session.get(Lead, lead_id, with_for_update=ROW_LOCK, populate_existing=True)
    return session.get(Lead, lead_id)


# Built once: read for every scored lead (a statement SQLAlchemy has seen is not rebuilt).
_BY_IDS = select(Lead).where(Lead.id.in_(bindparam("ids", expanding=True))).order_by(Lead.id)
_BY_IDS_LOCKED = _BY_IDS.with_for_update(**ROW_LOCK).execution_options(populate_existing=True)


def get_many(session: Session, lead_ids: Iterable[int], *, lock: bool = False) -> list[Lead]:
    """The leads with these ids, by id; `lock`: read afresh and held until the commit.

    Locked in id order, so writers of overlapping leads queue instead of deadlocking: a lead's
    score, stage and hand-off are read, changed and written by one transaction at a time.
    """
    query = _BY_IDS_LOCKED if lock else _BY_IDS
    found: list[Lead] = []
    for batch in chunked(sorted(set(lead_ids))):
        found.extend(session.scalars(query, {"ids": batch}))
    return found


_BY_EMAIL = select(Lead).where(Lead.email == bindparam("email"))
_BY_EMAIL_LOCKED = _BY_EMAIL.with_for_update(**ROW_LOCK).execution_options(populate_existing=True)


def get_by_email(session: Session, email: str, *, lock: bool = False) -> Lead | None:
    """The lead this e-mail names, however it is spelled (`email_key`): its own, else the one
    a merge folded it into (one more indexed lookup, only for an address no lead has as its
    own); `lock` as for `get`."""
    key = email_key(email)
    if key is None:
        return None
    lead = session.scalar(_BY_EMAIL_LOCKED if lock else _BY_EMAIL, {"email": key})
    if lead is not None:
        return lead
    folded_into = identities.lead_for_address(session, key)
    return None if folded_into is None else get(session, folded_into, lock=lock)


def create(session: Session, *, email: str | None = None, **fields: Any) -> Lead:
    """Add a lead and flush it so it has an id (see `get_or_create` for one with an e-mail)."""
    lead = Lead(email=email_key(email), **fields)
    session.add(lead)
    session.flush()
    return lead


def get_or_create(session: Session, email: str, **fields: Any) -> tuple[Lead, bool]:
    """The lead with this e-mail, created (True) when there is none; locked either way.

    INSERT ... ON CONFLICT DO NOTHING: when another transaction creates the same e-mail at the
    same moment, this one waits for it and takes its lead instead of failing on the unique key.
    """
    key = email_key(email)
    folded_into = identities.lead_for_address(session, key) if key else None
    if folded_into is not None:  # an address a merge folded into a lead: that lead, never anew
        lead = get(session, folded_into, lock=True)
        assert lead is not None
        return lead, False
    # Core on the connection with a statement built once per engine kind: a new person's
    # first event runs this (SQLAlchemy compiles it once per set of fields given).
    statement = insert_new_only(session, Lead, ["email"], ["id"])
    created = session.connection().execute(statement, {**fields, "email": key}).scalar()
    lead = get_by_email(session, key or "", lock=True)
    assert lead is not None
    return lead, created is not None


def claim_email(session: Session, lead: Lead, email: str) -> bool:
    """Give an e-mail-less lead this e-mail unless it names another lead (`get_by_email`: a
    merge's address too), or another lead takes it at the same moment (the unique key refuses
    it inside a savepoint, and the lead stays as it was)."""
    key = email_key(email)
    if key is None or get_by_email(session, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.execute(update(Lead).where(Lead.id == lead.id).values(email=key))
    except IntegrityError:
        return False
    session.refresh(lead, ["email"])
    return True


def fold_email(session: Session, email: str, lead: Lead, at: datetime) -> None:
    """The address of a lead a merge has just deleted names `lead` from now on: as its own
    when it has none, else as an address folded into it (`get_by_email`)."""
    key = email_key(email)
    if key is None:
        return
    if lead.email is None:
        lead.email = key
    else:
        identities.keep_address(session, key, lead.id, at)


def other_emails(session: Session, lead_id: int) -> list[str]:
    """The addresses merges folded into the lead (beside its own), sorted."""
    return identities.addresses_of(session, lead_id)


def delete_new(session: Session, lead: Lead) -> None:
    """Drop a lead this transaction has just created (its identity links go with it)."""
    session.delete(lead)
    session.flush()


def upsert_many(
    session: Session, rows: Sequence[dict[str, Any]], *, fill_only: bool = False
) -> int:
    """Insert leads with new e-mails and merge the rest (see `upsert_by_key`), a row whose
    e-mail a merge folded into a lead into that lead; count both."""
    return upsert_by_key(session, Lead, Lead.email, _as_kept(session, rows), fill_only=fill_only)


def _as_kept(session: Session, rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """The rows, each whose e-mail was folded into a lead given that lead's own address."""
    keys = {given: email_key(given) for given in {row.get("email") for row in rows}}  # distinct
    folded = _folded(session, {key for key in keys.values() if key})
    own: dict[int, str] = {}
    for ids in chunked(sorted(set(folded.values()))):  # rarely any
        query = select(Lead.id, Lead.email).where(Lead.id.in_(ids))
        own.update({lead_id: email for lead_id, email in session.execute(query) if email})
    kept = {address: own[lead_id] for address, lead_id in folded.items() if lead_id in own}
    if not kept:
        return rows
    return [
        {**row, "email": kept[key]} if (key := keys[row.get("email")]) in kept else row
        for row in rows
    ]


def _folded(session: Session, addresses: set[str]) -> dict[str, int]:
    """Of these addresses (in their one form), those no lead has as its own that a merge
    folded into a lead: that lead's id by address."""
    folded = identities.leads_for_addresses(session, addresses)
    for batch in chunked(sorted(folded)):  # rarely any: an address is its lead's own first
        for email in session.scalars(select(Lead.email).where(Lead.email.in_(batch))):
            folded.pop(str(email), None)
    return folded


def ids_by_email(session: Session, emails: Iterable[str]) -> dict[str, int]:
    """Lead ids keyed by e-mail (as kept: `email_key`), for the e-mails that name a lead (its
    own, else one a merge folded into it: `get_by_email`)."""
    wanted = {e for e in map(email_key, emails) if e}
    found: dict[str, int] = {}
    for batch in chunked(wanted):
        query = select(Lead.email, Lead.id).where(Lead.email.in_(batch))
        found.update({email: lead_id for email, lead_id in session.execute(query) if email})
    if len(found) < len(wanted):  # the rest are no lead's own: one lookup of the merges'
        found.update(identities.leads_for_addresses(session, wanted - found.keys()))
    return found


def account_ids_by_email(session: Session, emails: Iterable[str]) -> set[int]:
    """The accounts the leads these e-mails name (`ids_by_email`) are at."""
    wanted = {e for e in map(email_key, emails) if e}
    found: set[int] = set()
    for batch in chunked(wanted):
        query = select(Lead.account_id).where(Lead.email.in_(batch), Lead.account_id.is_not(None))
        found.update(session.scalars(query.distinct()))
    for ids in chunked(sorted(set(_folded(session, wanted).values()))):
        query = select(Lead.account_id).where(Lead.id.in_(ids), Lead.account_id.is_not(None))
        found.update(session.scalars(query.distinct()))
    return found


def count_by_stage(session: Session) -> dict[str, int]:
    """How many leads are in each stage (stages with none are absent)."""
    query = select(Lead.stage, func.count()).group_by(Lead.stage)
    return dict(session.execute(query).all())


def set_stages(session: Session, moves: Sequence[tuple[int, str, str]], *, at: datetime) -> None:
    """Move many leads at once: (lead id, from stage, to stage); `reached_rank` keeps the
    furthest funnel rank either stage has."""
    if not moves:
        return
    if use_copy(session, len(moves)):
        _set_stages_staged(session, moves, at)
        return
    rows = [
        {"id": i, "stage": to, "stage_changed_at": at, "updated_at": at,
         "reached_rank": max(funnel_rank(Stage(a)), funnel_rank(Stage(to)))}
        for i, a, to in moves
    ]  # fmt: skip
    dialect = session.get_bind().dialect.name
    greatest = func.greatest if dialect == "postgresql" else func.max
    # One statement per lead (one new row version, one pass over its indexes and triggers).
    furthest = {"reached_rank": lambda given: greatest(Lead.reached_rank, given)}
    update_by_id(session, table_of(Lead), rows, computed=furthest)


def _set_stages_staged(
    session: Session, moves: Sequence[tuple[int, str, str]], at: datetime
) -> None:
    """PostgreSQL, many moves: COPY them into a staging table, then one UPDATE ... FROM it
    (stage and reached_rank together: one new row version per lead, not two)."""
    stage: dict[int, str] = {}
    rank: dict[int, int] = {}
    for lead_id, a, b in moves:  # a later move of a lead wins; its rank is the furthest
        stage[lead_id] = b
        furthest = max(funnel_rank(Stage(a)), funnel_rank(Stage(b)))
        rank[lead_id] = max(rank.get(lead_id, furthest), furthest)
    lead = table_of(Lead)
    rows = {"id": list(stage), "stage": list(stage.values()), "rank": list(rank.values())}
    columns = [*like(lead, ["id", "stage"]), Column("rank", Integer)]
    with staged(session, columns, rows) as moved:
        moment = bindparam("p_at", at, type_=lead.c.updated_at.type)
        changes = {
            "stage": moved.c.stage,
            "stage_changed_at": moment,
            "updated_at": moment,
            "reached_rank": func.greatest(lead.c.reached_rank, moved.c.rank),
        }
        session.connection().execute(update(lead).where(lead.c.id == moved.c.id).values(changes))


def entered_at(session: Session, lead_ids: Sequence[int]) -> dict[int, datetime]:
    """When each lead entered its current stage (its creation when it never moved)."""
    found: dict[int, datetime] = {}
    moment = func.coalesce(Lead.stage_changed_at, Lead.created_at)
    for batch in chunked(sorted(set(lead_ids))):
        query = select(Lead.id, moment.label("at")).where(Lead.id.in_(batch))
        found.update({row["id"]: row["at"] for row in select_dicts(session, query)})
    return found


def ids_at_accounts(session: Session, account_ids: Sequence[int]) -> list[int]:
    """The ids of the leads at these accounts."""
    found: list[int] = []
    for batch in chunked(sorted(set(account_ids))):
        found += session.scalars(select(Lead.id).where(Lead.account_id.in_(batch)))
    return found


def peers(session: Session, lead_ids: Sequence[int], account_ids: Iterable[int]) -> list[int]:
    """The ids of the leads at the accounts these leads are at, and at `account_ids`."""
    accounts = set(account_ids)
    for batch in chunked(sorted(set(lead_ids))):  # by primary key
        at = select(Lead.account_id).where(Lead.id.in_(batch), Lead.account_id.is_not(None))
        accounts.update(session.scalars(at.distinct()))
    found: list[int] = []
    for query in by_ids(session, select(Lead.id), Lead.account_id, accounts):
        found += session.scalars(query)
    return found


def in_stage(session: Session, stage: str) -> list[Lead]:
    """Every lead in one stage, by id."""
    return list(session.scalars(select(Lead).where(Lead.stage == stage).order_by(Lead.id)))


def created_in_stage(session: Session, stage: str) -> list[tuple[int, datetime]]:
    """(id, created_at) of every lead in one stage, by id: what a caller needs to choose
    which of them to load (`get_many`), without making every lead an ORM object."""
    query = select(Lead.id, Lead.created_at).where(Lead.stage == stage).order_by(Lead.id)
    return [(lead_id, created) for lead_id, created in session.execute(query)]


def move_history(session: Session, *, from_lead: int, to_lead: int) -> int:
    """Give `to_lead` everything `from_lead` has: events, identities, stage changes,
    hand-offs and the notifications about it (a rep's bell keeps the alert of a hand-off that
    moved, pointing at the lead it is on now); its score ledger goes (the merged lead is
    re-scored). The number of events moved."""
    moved = 0
    rule_state.forget(session, [from_lead, to_lead])
    for model in (Event, Identity, StageChange, Assignment, Notification):
        statement = (
            update(model)
            .where(model.lead_id == from_lead)
            .values(lead_id=to_lead)
            .execution_options(synchronize_session=False)
        )
        result = session.execute(statement)
        if model is Event:
            moved = int(getattr(result, "rowcount", 0) or 0)
    lead_activity.refresh(session, [from_lead, to_lead])
    session.execute(
        delete(ScoreEntry)
        .where(ScoreEntry.lead_id == from_lead)
        .execution_options(synchronize_session=False)
    )
    return moved
