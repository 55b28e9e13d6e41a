"""Take a batch of Segment messages: identities first, then events, then scores, in one go.

The caller's transaction holds it all: if anything fails nothing is stored, and once it
commits every event is stored exactly once and every lead it touched is re-scored and moved.

Order matters only for identity: an anonymous visitor's page views may come in the same batch
as the identify that names them. So identify/alias/group messages are applied first, in order,
and every event is then attributed with the final mapping, which is what attributing them one
by one and merging the history on identify would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.facts import EventFacts
from leadflow.core.playbook import Playbook
from leadflow.core.segment import USER_PREFIX, Message, parse_message
from leadflow.repositories import claims, identities, live_snapshot
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories.live_snapshot import LiveSnapshot
from leadflow.services import privacy
from leadflow.services.ingest.identify import Identities, identity_key
from leadflow.services.pipeline import run_live

IDENTITY_TYPES = ("identify", "alias", "group")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message of the batch that was not stored, and why."""

    index: int
    reason: str


@dataclass
class IngestResult:
    """What a batch did: stored, already seen, refused, and the leads it re-scored."""

    stored: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    lead_ids: list[int] = field(default_factory=list)
    # Acknowledged, not stored: about an erased person, or behaviour of a do-not-track lead
    # (its id remembered: a replay is a duplicate). The truth, for the server: the public
    # write key is told these were stored (`api.segment`).
    suppressed: int = 0


# How much of a transaction's time a message may take, in units of an event's: an identity
# message may create a lead and an account and reassign a past (about ten events' worth).
_IDENTITY_WEIGHT = 10
PART_WEIGHT = 250  # one transaction: about 25 new people, or 250 events (~0.2-0.3 s)


def transaction_parts(messages: Sequence[Message]) -> list[list[Message]]:
    """The messages of one call in parts, in order, each stored in a transaction of its own:
    a writer waits for one part, never for a whole big batch. A part that commits is kept; a
    call that fails after one is retried whole by its client, and its messages' ids make the
    parts already stored duplicates, not doubles."""
    parts: list[list[Message]] = [[]]
    weight = 0
    for message in messages:
        cost = _IDENTITY_WEIGHT if message.type in IDENTITY_TYPES else 1
        if parts[-1] and weight + cost > PART_WEIGHT:
            parts.append([])
            weight = 0
        parts[-1].append(message)
        weight += cost
    return parts


def added(results: Sequence[IngestResult]) -> IngestResult:
    """One call's result from its parts' results."""
    leads = sorted({lead for r in results for lead in r.lead_ids})
    return IngestResult(
        stored=sum(r.stored for r in results),
        duplicates=sum(r.duplicates for r in results),
        rejected=[x for r in results for x in r.rejected],
        lead_ids=leads,
        suppressed=sum(r.suppressed for r in results),
    )


def parse_all(
    raw_messages: Sequence[Any], received_at: datetime, kind: str | None = None
) -> tuple[list[Message], list[Rejected]]:
    """The valid messages, and each invalid one by index with its reason."""
    good: list[Message] = []
    bad: list[Rejected] = []
    for index, raw in enumerate(raw_messages):
        try:
            good.append(parse_message(raw, received_at, kind))
        except Invalid as exc:
            bad.append(Rejected(index, str(exc)))
    return good, bad


def ingest(
    session: Session,
    playbook: Playbook,
    messages: Sequence[Message],
    *,
    source: str,
    now: datetime,
    snapshot: LiveSnapshot | None = None,
) -> IngestResult:
    """Store the messages as events for their leads and re-score every lead they touched.

    A message whose id this source sent before is acknowledged and skipped entirely: a
    replayed batch changes nothing. `snapshot`: what the call must know before it scores
    (`repositories.live_snapshot`), when the caller has read it already.
    """
    return ingest_parts(session, playbook, [messages], source=source, now=now,
                        snapshot=snapshot)[0]  # fmt: skip


def ingest_parts(
    session: Session,
    playbook: Playbook,
    parts: Sequence[Sequence[Message]],
    *,
    source: str,
    now: datetime,
    snapshot: LiveSnapshot | None = None,
) -> list[IngestResult]:
    """`ingest` for several calls' messages at once (requests sharing a transaction), with
    each call's own result: what storing them one call after another would give, as one
    batch (identities first, then events, scored once per lead)."""
    snapshot = snapshot or live_snapshot.read(session)
    messages = [m for part in parts for m in part]
    # Events alone dedupe on insert (ON CONFLICT DO NOTHING). Identity messages change leads
    # before their event is stored, so replayed ones are dropped up front (one more query).
    changes_identity = any(m.type in IDENTITY_TYPES for m in messages)
    ids = [m.message_id for m in messages]
    known = event_repo.known_message_ids(session, source, ids) if changes_identity else set()
    known |= privacy.forgotten(session, source, ids)  # acknowledged before, never stored
    fresh = _first_of_each(messages, known)
    kept, _ = privacy.drop_erased(session, fresh, anyone_erased=snapshot.anyone_erased)
    people = Identities(session, now, frozenset(playbook.custom_fields))
    keys = {k for m in kept for k in _identity_keys(m)}
    kept, owners = _identified(people, kept, keys, read_first=not changes_identity)
    for message in kept:  # a known person's e-mail (userId, context traits) on new ids
        if _owner(message, owners) is None and message.email():
            lead_id = people.known_by_email(message)  # which links the message's ids to it
            owners.update(dict.fromkeys(_identity_keys(message), lead_id))
    tracked, rows = _held_and_tracked(session, kept, owners, source, now)
    forgotten = _forget_dropped(session, fresh, tracked, source, now)
    stored = event_repo.insert_new(session, rows) if rows else {}
    new_events: dict[int, list[EventFacts]] = {}
    for message, row in zip(tracked, rows, strict=True):
        event_id = stored.get(message.message_id)
        if event_id is not None and row["lead_id"] is not None:
            new_events.setdefault(row["lead_id"], []).append(_facts(row, event_id))
    touched = sorted(set(new_events) | people.changed)
    # An account's column filled in (once per column): its other people's facts changed too.
    colleagues = lead_repo.ids_at_accounts(session, sorted(people.filled))
    run_live(session, playbook, {*touched, *colleagues}, now, new_events=new_events,
             cause="event", snapshot=snapshot, attributed=people.attributed,
             left_accounts=people.left)  # fmt: skip
    if len(parts) == 1:
        suppressed = len(forgotten)  # erased, or do-not-track (a replay is a duplicate)
        return [IngestResult(len(stored), len(messages) - len(stored) - suppressed, [],
                             touched, suppressed)]  # fmt: skip
    rows_of = dict(zip(map(id, tracked), rows, strict=True))
    outcome = _Outcome(set(map(id, fresh)), set(rows_of), stored, rows_of, forgotten)
    return [outcome.of(part, people.changed) for part in parts]


def _forget_dropped(
    session: Session, fresh: list[Message], tracked: list[Message], source: str, now: datetime
) -> set[str]:
    """Remember the ids of the messages dropped for privacy (about an erased or do-not-track
    person), so their replays are duplicates as a stored message's are; the ids new here."""
    kept = set(map(id, tracked))
    dropped = [m.message_id for m in fresh if id(m) not in kept]
    return privacy.forget(session, source, dropped, now) if dropped else set()


@dataclass
class _Outcome:
    """What became of each message of a merged batch, to answer each call for its own."""

    fresh: set[int]  # id() of the first message of each id, not sent before
    tracked: set[int]  # of those, not about an erased or do-not-track person
    stored: dict[str, int]  # event id by message id, for those stored now
    rows: dict[int, dict[str, Any]]  # event row by id() of a tracked message
    forgotten: set[str]  # message ids of the others, remembered now (not replays)

    def of(self, part: Sequence[Message], identified: set[int]) -> IngestResult:
        fresh, tracked = self.fresh, self.tracked
        result = IngestResult()
        leads: set[int] = set()
        for message in part:
            row = self.rows.get(id(message))
            if row is not None and row["lead_id"] is not None:
                leads.add(row["lead_id"])
            if id(message) in tracked and message.message_id in self.stored:
                result.stored += 1
            elif id(message) in fresh and message.message_id in self.forgotten:
                result.suppressed += 1
            else:
                result.duplicates += 1
        identifies = any(m.type in IDENTITY_TYPES for m in part)
        result.lead_ids = sorted(leads | (identified if identifies else set()))
        return result


def _identified(
    people: Identities, messages: list[Message], keys: set[str], *, read_first: bool
) -> tuple[list[Message], dict[str, int]]:
    """Claim the names the messages may create and apply the identity messages among them;
    the messages left, and the lead each known id belongs to. `read_first` (no identity
    message): whose ids are known is read before, so a message whose ids have a lead claims
    nothing (nor reads again)."""
    session = people.session
    known = identities.leads_for(session, keys) if read_first else {}
    claimed = _may_create(messages, known)
    if not claimed and read_first:
        return messages, known
    people.claim_and_lock(claimed)
    if claims.may_have_waited(session):
        # For an erasure of one of these people, maybe: its tombstones are read again, or
        # the person would be made anew (the first reading was before the claim).
        left, _ = privacy.drop_erased(session, claimed)
        if len(left) < len(claimed):
            buried = set(map(id, claimed)) - set(map(id, left))
            messages, claimed = [m for m in messages if id(m) not in buried], left
    for message in claimed:
        if message.type in IDENTITY_TYPES:
            people.apply(message)
    return messages, identities.leads_for(session, keys)  # once claimed: the claim's wait seen


def _may_create(messages: Sequence[Message], owners: dict[str, int]) -> list[Message]:
    """The messages that may make a lead or link an id to one, so claim its names first:
    identity messages, and any other carrying an e-mail whose ids no lead has yet."""
    return [
        m
        for m in messages
        if m.type in IDENTITY_TYPES or (_owner(m, owners) is None and m.email() is not None)
    ]


def _held_and_tracked(
    session: Session, messages: list[Message], owners: dict[str, int], source: str, now: datetime
) -> tuple[list[Message], list[dict[str, Any]]]:
    """The messages to store and their event rows, their leads held until the commit (the
    lock `run_live` takes, taken before the events' INSERT). Consent: a do-not-track lead's
    behaviour is neither stored nor scored. A lead that has gone since its ids were read (a
    merge or an erasure committed, maybe while this waited for the lock) gets nothing: its
    messages' ids are read again, and name the lead kept, or an erased person's tombstones."""
    while True:
        rows = [_event_row(m, _owner(m, owners), source, now) for m in messages]
        wanted = {r["lead_id"] for r in rows if r["lead_id"] is not None}
        held = privacy.held_to_track(session, wanted)
        gone = wanted - held.keys()
        if not gone:
            break
        messages, owners = _read_again(session, messages, owners, gone)
    kept = [(m, r) for m, r in zip(messages, rows, strict=True) if not held.get(r["lead_id"])]
    return [m for m, _ in kept], [r for _, r in kept]


def _read_again(
    session: Session, messages: list[Message], owners: dict[str, int], gone: set[int]
) -> tuple[list[Message], dict[str, int]]:
    """The messages and their ids' leads once these leads have gone: a merge moved their ids
    to the lead kept; an erasure deleted them and buried the person (whose messages are
    dropped, as any about an erased person)."""
    keys = {k for m in messages if _owner(m, owners) in gone for k in _identity_keys(m)}
    owners = {k: lead for k, lead in owners.items() if lead not in gone}
    owners.update(identities.leads_for(session, keys))
    kept, _ = privacy.drop_erased(session, messages)
    return kept, owners


def _first_of_each(messages: Sequence[Message], known: set[str]) -> list[Message]:
    seen = set(known)
    fresh = []
    for message in messages:
        if message.message_id not in seen:
            seen.add(message.message_id)
            fresh.append(message)
    return fresh


def _identity_keys(message: Message) -> list[str]:
    keys = [message.anonymous_id] if message.anonymous_id else []
    if message.user_id:
        keys.append(USER_PREFIX + message.user_id)
    return keys


def _owner(message: Message, owners: dict[str, int]) -> int | None:
    if message.user_id and (USER_PREFIX + message.user_id) in owners:
        return owners[USER_PREFIX + message.user_id]
    if message.anonymous_id:
        return owners.get(message.anonymous_id)
    return None


def _event_row(message: Message, lead_id: int | None, source: str, now: datetime) -> dict[str, Any]:
    properties = message.traits if message.type == "identify" else message.properties
    if message.type == "group":
        properties = {"groupId": message.group_id, **message.traits}
    if message.type == "alias":
        properties = {"previousId": message.previous_id}
    return {
        "lead_id": lead_id,
        "anonymous_id": identity_key(message),
        "source": source,
        "message_id": message.message_id,
        "type": message.type,
        "name": message.name,
        "properties": properties,
        "context": message.context,
        "occurred_at": message.occurred_at,
        "received_at": now,
    }


def _facts(row: dict[str, Any], event_id: int) -> EventFacts:
    """The event as stored (an identify's traits and a group's id are its properties), so live
    scoring reads what a re-score of the stored events reads."""
    return EventFacts(
        id=str(event_id),
        type=row["type"],
        occurred_at=row["occurred_at"],
        name=row["name"],
        properties=row["properties"],
        context=row["context"],
    )
