"""Events: deduplicated inserts, a lead's timeline, and column streams for bulk re-scoring.

Deduplication uses `INSERT ... ON CONFLICT (source, message_id) DO NOTHING`, which both
PostgreSQL and SQLite support: a duplicate is skipped by the database, raises nothing and
leaves the surrounding transaction usable, with no SAVEPOINT round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, func, null, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

from leadflow.core.event_kinds import kind_of, occurred_micros
from leadflow.core.facts import EventFacts
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.models.types import utcnow
from leadflow.repositories import _hot, lead_activity, rule_state
from leadflow.repositories._driver import insert_rows, select_columns
from leadflow.repositories._sql import chunked, dialect_insert, table_of

DEDUPE_KEY = ["source", "message_id"]
OPTIONAL: dict[str, Any] = {
    "lead_id": None,
    "anonymous_id": None,
    "source": "api",
    "name": None,
    "properties": {},
    "context": {},
}
# (id, lead_id, type, name, properties, context, occurred_at)
EventColumns = Row[int, int, str, str | None, dict[str, Any], dict[str, Any], datetime]


ALL_ROOTS = ("properties", "context")  # an event's JSON columns
LOOKUP_LIMIT = 200  # characters kept of a campaign or a path (they sit in an index)


def _text(value: Any) -> str | None:
    return value[:LOOKUP_LIMIT] if isinstance(value, str) and value else None


def with_lookups(row: dict[str, Any]) -> dict[str, Any]:
    """The row with `campaign` (Segment's context.campaign.name, else a utm_campaign or
    campaign property), `path` (a page view's path), and what bulk re-scoring reads
    (`occurred_us`, `kind`: see core.event_kinds) filled in."""
    properties = row.get("properties") or {}
    context = row.get("context") or {}
    campaign = context.get("campaign") if isinstance(context, dict) else None
    named = campaign.get("name") if isinstance(campaign, dict) else None
    found = (
        _text(named) or _text(properties.get("utm_campaign")) or _text(properties.get("campaign"))
    )
    path = _text(properties.get("path")) if row.get("type") == "page" else None
    kind = kind_of(row["type"], row.get("name"), properties)
    occurred = row.get("occurred_at")
    micros = occurred_micros(occurred) if isinstance(occurred, datetime) else None
    return {**row, "campaign": found, "path": path, "occurred_us": micros, "kind": kind}


def insert(session: Session, **fields: Any) -> Event | None:
    """Store one event; None when its (source, message_id) was stored before."""
    statement = (
        dialect_insert(session, Event)
        .values(**with_lookups(fields))
        .on_conflict_do_nothing(index_elements=DEDUPE_KEY)
        .returning(Event)
    )
    stored = session.scalars(statement).one_or_none()
    if stored is not None and stored.lead_id is not None:
        lead_activity.note_added(session, [stored.lead_id])
    return stored


def insert_many(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Store many events, skipping ones already stored (or repeated in `rows`); count new ones.

    Every row must carry the same keys. Through `_driver` (COPY on PostgreSQL from
    `COPY_FROM` rows): SQLAlchemy's per-row parameters and RETURNING cost several times the
    database work (a demo build spent a sixth of its time here)."""
    table = table_of(Event)
    defaults = {**OPTIONAL, "received_at": utcnow()}
    stored = 0
    rule_state.forget(session, {r["lead_id"] for r in rows if r.get("lead_id") is not None})
    for batch in chunked(rows):
        prepared = [with_lookups({**defaults, **row}) for row in batch]
        stored += insert_rows(session, table, prepared, unless=DEDUPE_KEY)
    lead_activity.note_added(session, {r["lead_id"] for r in rows if r.get("lead_id") is not None})
    return stored


_KNOWN = select(Event.message_id).where(
    Event.source == bindparam("source"), Event.message_id.in_(bindparam("ids", expanding=True))
)


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Store events not stored before (by source and message id); their ids by message id.

    Every row must carry the same keys. A message id repeated within `rows` is stored once.
    The leads' activity (`lead_activity`) is the caller's to refresh, under its lock of them
    (`pipeline.run_live` does).
    """
    # On the driver's cursor (`_hot`), in pieces of a few sizes (each size compiled once).
    built = partial(_insert_some, session)
    returned = _hot.run_rows(session, "events", built, [with_lookups(row) for row in rows])
    return {str(message_id): int(event_id) for message_id, event_id in returned}


def _insert_some(session: Session, names: Sequence[str], count: int) -> ClauseElement:
    """INSERT of `count` events of these columns (`_hot.row_values`), skipping stored ones,
    RETURNING (message_id, id) of those stored."""
    table = table_of(Event)
    return (
        dialect_insert(session, table)
        .values(_hot.row_values(table, names, count))
        .on_conflict_do_nothing(index_elements=DEDUPE_KEY)
        .returning(table.c.message_id, table.c.id)
    )


def known_message_ids(session: Session, source: str, message_ids: Iterable[str]) -> set[str]:
    """Which of these message ids this source has sent before."""
    found: set[str] = set()
    for batch in chunked(sorted(set(message_ids))):
        # Core on the connection: this runs for every tracking call; the ORM layer costs more.
        found.update(
            session.connection().execute(_KNOWN, {"source": source, "ids": batch}).scalars()
        )
    return found


# Built once: a new lead's first scoring reads its history with it, on every tracking call
# that makes one (building the statement cost more than running it).
_OF_LEADS = (
    select(Event)
    .where(Event.lead_id.in_(bindparam("ids", expanding=True)))
    .order_by(Event.occurred_at, Event.id)
)


def for_leads(session: Session, lead_ids: Iterable[int]) -> dict[int, list[Event]]:
    """The events of these leads, oldest first, by lead."""
    found: dict[int, list[Event]] = {}
    for batch in chunked(sorted(set(lead_ids))):
        for event in session.scalars(_OF_LEADS, {"ids": batch}):
            found.setdefault(event.lead_id or 0, []).append(event)
    return found


def get(session: Session, event_id: int) -> Event | None:
    """The event with this id."""
    return session.get(Event, event_id)


def count(session: Session) -> int:
    """How many events are stored."""
    return session.scalar(select(func.count()).select_from(Event)) or 0


def for_lead(session: Session, lead_id: int) -> list[Event]:
    """The lead's events, oldest first (its latest few: `latest_of`)."""
    query = select(Event).where(Event.lead_id == lead_id)
    return list(session.scalars(query.order_by(Event.occurred_at, Event.id)))


@dataclass(frozen=True, slots=True)
class Recent:
    """What an alert shows of one of a lead's latest events."""

    type: str
    name: str | None
    properties: dict[str, Any]
    occurred_at: datetime
    source: str  # who stored it: a tracking key's events are not the team's notes


@cache
def _latest_of_one(limit: int) -> Select[tuple[str, str | None, dict[str, Any], datetime, str]]:
    """One lead's latest `limit` events, newest first: ordered as `latest_of` ranks them."""
    return (
        select(Event.type, Event.name, Event.properties, Event.occurred_at, Event.source)
        .where(Event.lead_id == bindparam("lead_id"))
        .order_by(Event.occurred_us.desc().nulls_last(), Event.id.desc())
        .limit(limit)
    )


def latest_of(session: Session, lead_ids: Iterable[int], limit: int) -> dict[int, list[Recent]]:
    """Each of these leads' latest `limit` events, oldest first (a lead without any: absent),
    read for all of them at once: a bulk pass's hand-offs need them for a thousand alerts."""
    found: dict[int, list[Recent]] = {}
    wanted = sorted(set(lead_ids))
    if len(wanted) == 1:  # a live hand-off: one lead, by a statement built once
        rows = session.execute(_latest_of_one(limit), {"lead_id": wanted[0]}).all()
        if rows:
            found[wanted[0]] = [Recent(t, n, p or {}, at, f) for t, n, p, at, f in reversed(rows)]
        return found
    # Ranked by the integer time, from the covering `ix_events_scoring` (lead, time, and the
    # row id every SQLite index holds): only the rows kept are then read whole, not every
    # event of each lead (at a million leads, most of a bulk pass's hand-off time went there).
    # (A row without its integer time, which every writer fills in, ranks as the oldest.)
    order = (Event.occurred_us.desc().nulls_last(), Event.id.desc())
    for batch in chunked(wanted):
        place = func.row_number().over(partition_by=Event.lead_id, order_by=order)
        ranked = select(Event.id, place.label("place")).where(Event.lead_id.in_(batch)).subquery()
        query = (
            select(
                Event.lead_id,
                Event.type,
                Event.name,
                Event.properties,
                Event.occurred_at,
                Event.source,
            )
            .join(ranked, ranked.c.id == Event.id)
            .where(ranked.c.place <= limit)
            .order_by(Event.lead_id, Event.occurred_us.asc().nulls_first(), Event.id)
        )
        columns = select_columns(session, query).values()  # the driver's rows, typed as usual
        for lead_id, kind, name, properties, at, source in zip(*columns, strict=True):
            found.setdefault(lead_id, []).append(Recent(kind, name, properties or {}, at, source))
    return found


def iter_all_columns(
    session: Session, *, lead_ids: Iterable[int] | None = None, chunk_size: int = 10_000
) -> Iterator[Sequence[EventColumns]]:
    """Events of known leads as plain rows, in chunks, by lead then time (for bulk re-scoring).

    Rows are (id, lead_id, type, name, properties, context, occurred_at); every lead's events
    arrive together and in order, possibly split across consecutive chunks.
    """
    columns = _matching_columns(ALL_ROOTS).order_by(Event.lead_id, Event.occurred_at, Event.id)
    if lead_ids is None:
        queries = [columns.where(Event.lead_id.is_not(None))]
    else:
        queries = [columns.where(Event.lead_id.in_(b)) for b in chunked(sorted(set(lead_ids)))]
    for query in queries:
        result = session.execute(query.execution_options(yield_per=chunk_size))
        yield from result.partitions()


def since_stage_change(
    session: Session,
    *,
    stages: Sequence[str],
    types: Sequence[str] | None,
    names: Sequence[str] | None,
    until: datetime,
    received_since: datetime | None = None,
) -> list[EventColumns]:
    """Events of leads in `stages` that happened after the lead last changed stage, up to
    `until`, and (with `received_since`) those received since then, whenever they happened.

    Narrowed in SQL by type and (case-insensitive) name; the caller applies the rest of its
    matcher. A lead that never changed stage has all its events counted.
    """
    new = (Lead.stage_changed_at.is_(None)) | (Event.occurred_at > Lead.stage_changed_at)
    if received_since is not None:
        new = new | (Event.received_at >= received_since)
    query = (
        _matching_columns(ALL_ROOTS)
        .join(Lead, Lead.id == Event.lead_id)
        .where(Lead.stage.in_(stages))
        .where(new)
        .where(Event.occurred_at <= until)
    )
    if types is not None:
        query = query.where(Event.type.in_(types))
    if names is not None:
        query = query.where(func.lower(Event.name).in_([n.lower() for n in names]))
    return list(session.execute(query.order_by(Event.lead_id, Event.occurred_at, Event.id)))


def as_facts(row: EventColumns) -> EventFacts:
    """An event read as columns, as scoring sees it."""
    return EventFacts(
        str(row.id), row.type, row.occurred_at, row.name, row.properties or {}, row.context or {}
    )


def _matching_columns(roots: Iterable[str]) -> Select[Any]:
    """An event's columns as matching reads them, with only the JSON `roots` ("properties",
    "context") its rules read: a Segment context (user agent, IP, library, page) is most of
    an event's size and few rules read it."""
    wanted = set(roots)
    properties = Event.properties if "properties" in wanted else null().label("properties")
    context = Event.context if "context" in wanted else null().label("context")
    return select(Event.id, Event.lead_id, Event.type, Event.name, properties, context,
                  Event.occurred_at)  # fmt: skip


def facts_since(
    session: Session, lead_ids: Iterable[int], start: datetime, roots: Iterable[str]
) -> dict[int, list[EventFacts]]:
    """The events of these leads that occurred at or after `start`, oldest first, by lead
    (JSON `roots` only, see `_matching_columns`)."""
    found: dict[int, list[EventFacts]] = {}
    for batch in chunked(sorted(set(lead_ids))):
        query = (
            _matching_columns(roots)
            .where(Event.lead_id.in_(batch), Event.occurred_at >= start)
            .order_by(Event.occurred_at, Event.id)
        )
        for row in session.execute(query):
            found.setdefault(row.lead_id, []).append(as_facts(row))
    return found


def facts_by_id(
    session: Session, event_ids: Iterable[int], roots: Iterable[str]
) -> dict[int, EventFacts]:
    """These events (JSON `roots` only), by id; an id no event has is left out."""
    found: dict[int, EventFacts] = {}
    for batch in chunked(sorted(set(event_ids))):
        for row in session.execute(_matching_columns(roots).where(Event.id.in_(batch))):
            found[row.id] = as_facts(row)
    return found


KindCount = Row[int, int, int, int]  # lead_id, kind (-1: not stored), events, an event's id


def kind_counts(
    session: Session, lead_ids: Iterable[int], start: datetime, end: datetime
) -> list[KindCount]:
    """How many events of each kind each of these leads had from `start` to `end` (both
    included), and the id of one event of each (lead, kind): from `ix_events_scoring`, no
    JSON read. Events stored without their time or kind (by raw SQL) count as kind -1."""
    kind = case((Event.occurred_us.is_(None), -1), else_=func.coalesce(Event.kind, -1))
    span = Event.occurred_us.between(occurred_micros(start), occurred_micros(end))
    rows: list[KindCount] = []
    for batch in chunked(sorted(set(lead_ids))):
        query = (
            select(
                Event.lead_id,
                kind.label("kind"),
                func.count().label("events"),
                func.min(Event.id).label("sample"),
            )
            .where(Event.lead_id.in_(batch), or_(span, Event.occurred_us.is_(None)))
            .group_by(Event.lead_id, kind)
        )
        rows += session.execute(query)
    return rows
