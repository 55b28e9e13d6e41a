"""People's data: every row held about one person, its deletion, tombstones, erased counts,
anonymized old events and do-not-track. All the SQL of `services/privacy` lives here.

`PERSONAL` lists each table that holds a lead's rows by `lead_id`; `TEXT_TRACES` each column
another lead's rows may quote a person in (merge notes, reasons, alert payloads). A new table
or column holding personal data belongs in one of them (and in tests/services/test_privacy).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Text, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from leadflow.models.account import Account
from leadflow.models.assignment import Assignment
from leadflow.models.db import Base
from leadflow.models.event import Event
from leadflow.models.identity import Identity
from leadflow.models.lead import Lead
from leadflow.models.outbox import DeliveryAttempt, Notification, OutboxMessage
from leadflow.models.privacy import ErasedCount, Tombstone
from leadflow.models.score_ledger import ScoreEntry
from leadflow.models.stage_change import StageChange
from leadflow.repositories import _hot, lead_activity, rule_state
from leadflow.repositories._sql import ROW_LOCK, chunked, dialect_insert

PERSONAL: tuple[type[Base], ...] = (
    Identity, StageChange, Assignment, ScoreEntry, Event, Notification,
)  # fmt: skip
TEXT_TRACES: tuple[InstrumentedAttribute[Any], ...] = (
    Lead.attributes, Event.properties, Event.context, StageChange.reason, ScoreEntry.cause,
    Assignment.reason, OutboxMessage.payload, OutboxMessage.last_error, DeliveryAttempt.error,
    Account.attributes, Notification.title, Notification.body,
)  # fmt: skip
ERASED = "[erased]"


def row_dict(row: Base) -> dict[str, Any]:
    """Every column of an ORM row, by column name."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def identity_keys(session: Session, lead_id: int) -> list[str]:
    """The anonymous and `user:` ids linked to the lead or filed on its events."""
    linked = select(Identity.anonymous_id).where(Identity.lead_id == lead_id)
    filed = select(Event.anonymous_id).where(
        Event.lead_id == lead_id, Event.anonymous_id.is_not(None)
    )
    found = set(session.scalars(linked)) | set(session.scalars(filed.distinct()))
    return sorted(k for k in found if k)


def held_rows(session: Session, lead_id: int, keys: Sequence[str]) -> dict[str, list[Base]]:
    """The person's rows in every personal table, by table name; anonymous events included."""
    held: dict[str, list[Base]] = {}
    for model in PERSONAL:
        column = model.lead_id  # type: ignore[attr-defined]
        where = column == lead_id
        if model is Event and keys:
            where = or_(where, Event.anonymous_id.in_(list(keys)))
        query = select(model).where(where).order_by(*model.__table__.primary_key.columns)  # type: ignore[attr-defined]
        held[model.__tablename__] = list(session.scalars(query))
    return held


def _like_any(column: Any, needles: Sequence[str]) -> Any:
    text = func.lower(column.cast(Text))
    return or_(*[text.like(f"%{n}%", escape="\\") for n in _patterns(needles)])


def _patterns(needles: Sequence[str]) -> list[str]:
    """Each needle lowercased, as written and as JSON escapes it (non-ASCII as \\uXXXX)."""
    found: set[str] = set()
    for needle in needles:
        low = needle.lower()
        for form in (low, json.dumps(low)[1:-1]):
            found.add(form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return sorted(found)


def outbox_quoting(session: Session, lead_id: int, needles: Sequence[str]) -> list[OutboxMessage]:
    """Alerts about the lead (by its id in the payload) or quoting any needle."""
    query = select(OutboxMessage).where(_like_any(OutboxMessage.payload, needles))
    quoting = list(session.scalars(query))
    about = f'"id": {lead_id}'
    loose = select(OutboxMessage).where(OutboxMessage.payload.cast(Text).like(f"%{about}%"))
    mine = [m for m in session.scalars(loose) if _lead_of(m.payload) == lead_id]
    return list({m.id: m for m in [*quoting, *mine]}.values())


def _lead_of(payload: Any) -> int | None:
    data = payload.get("data") if isinstance(payload, dict) else None
    lead = data.get("lead") if isinstance(data, dict) else None
    return lead.get("id") if isinstance(lead, dict) else None


def message_ids_held(session: Session, lead_id: int, keys: Sequence[str]) -> list[tuple[str, str]]:
    """(source, message id) of every event `delete_person` deletes: the lead's and those filed
    under its keys."""
    where = Event.lead_id == lead_id
    if keys:
        where = or_(where, Event.anonymous_id.in_(list(keys)))
    return [
        (str(s), str(m))
        for s, m in session.execute(select(Event.source, Event.message_id).where(where))
    ]


def delete_person(
    session: Session, lead_id: int, keys: Sequence[str], outbox_ids: list[int]
) -> int:
    """Delete the lead, every row it owns, its anonymous events and alerts; events deleted."""
    events = 0
    others: set[int] = set()  # leads holding an event under one of the person's keys
    for model in PERSONAL:
        column = model.lead_id  # type: ignore[attr-defined]
        where = column == lead_id
        if model is Event and keys:
            where = or_(where, Event.anonymous_id.in_(list(keys)))
            held = select(Event.lead_id).where(where, Event.lead_id != lead_id).distinct()
            others.update(session.scalars(held))
        result = session.execute(
            delete(model).where(where).execution_options(synchronize_session=False)
        )
        if model is Event:
            events = cast(CursorResult[Any], result).rowcount
    for batch in chunked(outbox_ids):
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(batch)))
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(batch)))
    session.execute(
        delete(Lead).where(Lead.id == lead_id).execution_options(synchronize_session=False)
    )
    lead_activity.refresh(session, others)
    return events


def scrub_traces(session: Session, needles: Sequence[str]) -> int:
    """Replace every needle quoted in another row's text or JSON with `[erased]`; rows changed."""
    pattern = re.compile(
        "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.I
    )
    changed = 0
    for column in TEXT_TRACES:
        model = column.class_
        primary = model.__table__.primary_key.columns
        (key,) = list(primary)
        query = select(key, column).where(_like_any(column, needles))
        for row_id, value in session.execute(query).all():
            clean = _replace(value, pattern)
            if clean != value:
                session.execute(update(model).where(key == row_id).values({column.key: clean}))
                changed += 1
    return changed


def _replace(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        return {_replace(k, pattern): _replace(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, pattern) for v in value]
    return value


# Built once (both run for every tracking call): a statement object SQLAlchemy has seen is
# not built, keyed and compiled again.
_TOMBSTONED = select(Tombstone.key_hash).where(
    Tombstone.key_hash.in_(bindparam("hashes", expanding=True))
)
_DO_NOT_TRACK = select(Lead.id).where(
    Lead.id.in_(bindparam("ids", expanding=True)), Lead.do_not_track.is_(True)
)
_HELD_TO_TRACK = (
    select(Lead.id, Lead.do_not_track)
    .where(Lead.id.in_(bindparam("ids", expanding=True)))
    .order_by(Lead.id)
    .with_for_update(**ROW_LOCK)
)


def anyone_erased(session: Session) -> bool:
    """Whether any person has been erased (a tombstone exists)."""
    return session.scalar(select(Tombstone.key_hash).limit(1)) is not None


def tombstoned(session: Session, hashes: Iterable[str]) -> set[str]:
    """Which of these key hashes belong to erased people."""
    found: set[str] = set()
    for batch in chunked(sorted(set(hashes))):
        found.update(session.connection().execute(_TOMBSTONED, {"hashes": batch}).scalars())
    return found


def bury(session: Session, hashes: Iterable[str], at: datetime) -> None:
    """Record tombstones (a key already buried stays as it was)."""
    rows = [{"key_hash": h, "erased_at": at} for h in sorted(set(hashes))]
    if rows:
        statement = dialect_insert(session, Tombstone).on_conflict_do_nothing(
            index_elements=["key_hash"]
        )
        session.execute(statement, rows)


def count_erased(session: Session, row: dict[str, Any], revenue: float) -> None:
    """Add one lead to the anonymous count with the same dimensions (or start one)."""
    where = [
        getattr(ErasedCount, k).is_(None) if v is None else getattr(ErasedCount, k) == v
        for k, v in row.items()
    ]
    existing = session.scalars(select(ErasedCount).where(*where).limit(1)).first()
    if existing is None:
        session.add(ErasedCount(**row, leads=1, revenue=revenue))
    else:
        existing.leads += 1
        existing.revenue += revenue


def do_not_track(session: Session, lead_ids: Iterable[int]) -> set[int]:
    """Which of these leads asked not to be tracked (an import of events asks; a tracking
    call asks `held_to_track`)."""
    rows = _hot.run_listed(session, "do_not_track", _DO_NOT_TRACK, sorted(set(lead_ids)))
    return {int(lead_id) for (lead_id,) in rows}


def held_to_track(session: Session, lead_ids: Iterable[int]) -> dict[int, bool]:
    """These leads held until the commit (PostgreSQL: `ROW_LOCK`, in id order, as
    `leads.get_many` takes them), each with whether it asked not to be tracked. A lead left
    out has gone (merged away or erased) since its id was read: a lock waits for the delete's
    commit, then finds no row, where an event's foreign key would fail."""
    # On the driver's cursor (`_hot`): every tracking call for a known person asks.
    rows = _hot.run_listed(session, "held_to_track", _HELD_TO_TRACK, sorted(set(lead_ids)))
    return {int(lead_id): bool(untracked) for lead_id, untracked in rows}


def anonymize_events_before(
    session: Session, cutoff: datetime, limit: int
) -> tuple[int, list[int]]:
    """Strip up to `limit` events older than `cutoff` of who and what detail; how many, and
    the leads they were taken from."""
    personal = or_(
        Event.lead_id.is_not(None),
        Event.anonymous_id.is_not(None),
        Event.properties.cast(Text) != "{}",
        Event.context.cast(Text) != "{}",
    )
    query = select(Event.id).where(Event.occurred_at < cutoff, personal).order_by(Event.id)
    ids = list(session.scalars(query.limit(limit)))
    owners: set[int] = set()
    for batch in chunked(ids):
        owned = select(Event.lead_id).where(Event.id.in_(batch), Event.lead_id.is_not(None))
        owners.update(session.scalars(owned.distinct()))
        session.execute(
            update(Event)
            .where(Event.id.in_(batch))
            .values(lead_id=None, anonymous_id=None, properties={}, context={})
            .execution_options(synchronize_session=False)
        )
    lead_activity.refresh(session, owners)  # their events before the cutoff are theirs no more
    rule_state.forget(session, owners)  # nor do their engagement states count those events
    return len(ids), sorted(owners)
