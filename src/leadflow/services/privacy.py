"""People's data (GDPR / CCPA): erase a person, export what is held, honour do-not-track and
the playbook's retention.

Erasure deletes the lead and every row it owns, its anonymous events and the alerts about it,
replaces quotes of its e-mail, ids and name in other leads' rows with `[erased]`, keeps the
lead as one anonymous count (`erased_counts`) so funnel and conversion reports still add up,
buries hashes of its e-mail, the addresses merges folded into it and its identity keys
(`tombstones`) so replayed or new events for it are dropped, remembers the hashes of its
events' message ids (`forgotten_messages`) so a replay of one is answered as any replay is,
queues a `people.erased` webhook carrying only the hash, and audits it. It claims the
person's addresses and identity keys first, as a merge claims the address it frees
(`repositories/claims`), and reads the person after: writers of them take turns with it.

A tracking message dropped as about an erased or do-not-track person is acknowledged as if
stored (the write key is public: its answer must not tell who was erased or opted out) and
its id remembered the same way (`forget`, `forgotten`), by hash only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.addresses import email_identity
from leadflow.core.errors import Invalid, NotFound
from leadflow.core.playbook import Playbook
from leadflow.core.privacy import key_hash, message_hash
from leadflow.core.segment import USER_PREFIX, Message, merged_address, previous_keys
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import claims, forgotten_messages, identities, people
from leadflow.repositories import leads as lead_repo
from leadflow.services import audit, handoff, pipeline, playbooks

MIN_NEEDLE = 6  # shorter ids (`user:7`'s 7) would match unrelated text in other rows
RETENTION_BATCH = 10_000


def find_person(session: Session, key: str, *, lock: bool = False) -> Lead | None:
    """The lead by id, e-mail (`leads.get_by_email`: one merged into it too), or identity key
    (anonymous id or `user:` id); `lock`: read afresh and held until the commit."""
    key = key.strip()
    if not key or len(key) > 500 or not key.isprintable():
        raise Invalid("key: give an e-mail address, a lead id or an identity key")
    if key.isdigit() and len(key) < 19:
        return lead_repo.get(session, int(key), lock=lock)
    if "@" in key:
        return lead_repo.get_by_email(session, key, lock=lock)
    lead_id = identities.lead_for_anonymous(session, key)
    return lead_repo.get(session, lead_id, lock=lock) if lead_id is not None else None


def _addresses(email: str | None, keys: Sequence[str]) -> list[str]:
    """The person's e-mail and the addresses merges folded into its lead (`email:` keys)."""
    folded = [address for key in keys if (address := merged_address(key))]
    return [*([email] if email else []), *folded]


def _needles(lead: Lead | None, email: str | None, keys: Sequence[str]) -> list[str]:
    found = _addresses(email, keys)
    found += [k for k in keys if len(k) >= MIN_NEEDLE]
    found += [k[len(USER_PREFIX) :] for k in keys if k.startswith(USER_PREFIX)]
    if lead is not None and lead.first_name and lead.last_name:
        found.append(f"{lead.first_name} {lead.last_name}")
    return sorted({n for n in found if len(n) >= MIN_NEEDLE})


def erase(session: Session, key: str, *, actor: str, now: datetime) -> dict[str, Any]:
    """Remove the person everywhere; what was removed, as counts and the person's hash."""
    lead, email, keys = _claimed_person(session, key)
    if lead is None and email is None:
        raise NotFound(f"no person with id or identity key {key!r}")
    subject = key_hash(email) if email else key_hash(f"lead:{lead.id if lead else key}")
    needles = _needles(lead, email, keys)
    removed = {"lead": 0, "events": 0, "alerts": 0}
    if lead is not None:
        _count(session, lead)
        left = lead.account_id
        alerts = [m.id for m in people.outbox_quoting(session, lead.id, needles)]
        held = people.message_ids_held(session, lead.id, keys)
        forgotten_messages.remember(session, [(s, message_hash(m)) for s, m in held], now)
        removed = {
            "lead": 1,
            "events": people.delete_person(session, lead.id, keys, alerts),
            "alerts": len(alerts),
        }
        _leave_account(session, left, actor, now)
    traces = people.scrub_traces(session, needles) if needles else 0
    people.bury(session, [key_hash(k) for k in [*_addresses(email, keys), *keys]], now)
    data = {"subject": subject, "erased_at": now.isoformat()}
    handoff.queue_to(session, "people.erased", data, [], now)
    result = {"subject": subject, **removed, "traces_scrubbed": traces, "keys": len(keys)}
    target = f"lead:{lead.id}" if lead is not None else f"person:{subject[:16]}"
    audit.record(
        session, actor=actor, action="people.erase", target=target, details=result, now=now
    )
    return result


def _claimed_person(session: Session, key: str) -> tuple[Lead | None, str | None, list[str]]:
    """The person's lead (held), e-mail and identity keys, read once every address and key of
    theirs is claimed, as a merge claims the address it frees (`freeing`): a writer that
    claimed one first is waited for, and what it gave the person is erased with the rest; one
    that claims one after waits for the erasure, then finds the person's tombstones."""
    claimed: set[str] = set()
    lead = find_person(session, key)
    while True:
        email = lead.email if lead is not None else (email_identity(key) if "@" in key else None)
        keys = people.identity_keys(session, lead.id) if lead is not None else []
        names = claims.names_of(emails=_addresses(email, keys), keys=keys)
        if names <= claimed:
            return lead, email, keys
        # Names found only now (a writer the claim waited for gave them) are claimed out of
        # order: rare, and a deadlock that may follow is PostgreSQL's to end.
        claims.claim_people(session, emails=_addresses(email, keys), keys=keys, freeing=True)
        claimed |= names
        lead = find_person(session, key, lock=True)


def _leave_account(session: Session, account_id: int | None, actor: str, now: datetime) -> None:
    """The erased lead's account no longer counts it: rolled up again, as a re-score would."""
    book = playbooks.active_playbook_if_any(session) if account_id is not None else None
    if book is not None:
        pipeline.run_accounts(session, book, [account_id], now, actor=actor)


def _count(session: Session, lead: Lead) -> None:
    """Keep the lead as one anonymous count in the dimensions the funnel reports group by."""
    created = lead.created_at.astimezone(UTC)
    account = account_repo.get(session, lead.account_id) if lead.account_id else None
    rank = max(funnel_rank(Stage(lead.stage)), lead.reached_rank)
    row = {
        "created_month": datetime(created.year, created.month, 1, tzinfo=UTC),
        "source": lead.source,
        "medium": lead.medium,
        "campaign": lead.campaign,
        "persona": lead.persona,
        "tier": account.tier if account else None,
        "grade": lead.grade,
        "score_band": lead.score_band,
        "reached_rank": rank,
    }
    won = lead.outcome == "won"
    people.count_erased(session, row, float(lead.outcome_amount or 0.0) if won else 0.0)


def export(session: Session, key: str, *, actor: str, now: datetime) -> dict[str, Any]:
    """Everything held about the person, as plain JSON values; the export is audited."""
    lead = find_person(session, key)
    if lead is None:
        raise NotFound(f"no person with e-mail, id or identity key {key!r}")
    keys = people.identity_keys(session, lead.id)
    account = account_repo.get(session, lead.account_id) if lead.account_id else None
    held = people.held_rows(session, lead.id, keys)
    alerts = people.outbox_quoting(session, lead.id, _needles(lead, lead.email, keys))
    audit.record(session, actor=actor, action="people.export", target=f"lead:{lead.id}", now=now)
    plain: dict[str, Any] = _plain(
        {
            "exported_at": now,
            "lead": people.row_dict(lead),
            "account": people.row_dict(account) if account else None,
            "identity_keys": keys,
            "other_emails": _addresses(None, keys),  # of records merged into the lead
            **{table: [people.row_dict(r) for r in rows] for table, rows in held.items()},
            "alerts": [{"alert_id": m.alert_id, "payload": m.payload} for m in alerts],
        }
    )
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def message_keys(message: Message) -> list[str]:
    """Every key a message names a person by: each e-mail it carries (traits, context traits,
    an e-mail-shaped user id), its anonymous id, its `user:` id, and an alias's previous id
    (which identity links as an anonymous id and as a user id, so both forms here)."""
    found = [*message.emails(), message.anonymous_id or ""]
    # An erasure before e-mails had one form buried the address as it was written.
    found += [e for e in message.emails_as_written() if e not in found]
    if message.user_id:
        found.append(USER_PREFIX + message.user_id)
    if message.previous_id:
        found += previous_keys(message.previous_id)
    return [k for k in found if k]


def drop_erased(
    session: Session, messages: Sequence[Message], *, anyone_erased: bool = True
) -> tuple[list[Message], int]:
    """The messages not about an erased person, and how many were dropped. `anyone_erased`
    False (no tombstone at all, as the caller just read) skips hashing and looking up."""
    if not anyone_erased:
        return list(messages), 0
    hashes = {m.message_id: [key_hash(k) for k in message_keys(m)] for m in messages}
    buried = people.tombstoned(session, {h for found in hashes.values() for h in found})
    if not buried:
        return list(messages), 0
    kept = [m for m in messages if not buried.intersection(hashes[m.message_id])]
    return kept, len(messages) - len(kept)


def forgotten(session: Session, source: str, message_ids: Iterable[str]) -> set[str]:
    """Which of these message ids the source sent before and were not kept (dropped, erased)."""
    by_hash = {message_hash(m): m for m in message_ids}
    return {by_hash[h] for h in forgotten_messages.known(session, source, by_hash)}


def forget(session: Session, source: str, message_ids: Iterable[str], now: datetime) -> set[str]:
    """Remember these messages as acknowledged and not kept (their ids' hashes, nothing else);
    the ids new here (the others are replays of messages remembered before)."""
    by_hash = {message_hash(m): m for m in message_ids}
    new = forgotten_messages.remember(session, [(source, h) for h in by_hash], now)
    return {by_hash[h] for h in new}


def held_to_track(session: Session, lead_ids: Iterable[int]) -> dict[int, bool]:
    """These leads, held until the commit, each with whether its behaviour must not be stored
    or scored; a lead left out has gone (merged away or erased) since its id was read."""
    return people.held_to_track(session, lead_ids)


def apply_retention(session: Session, playbook: Playbook, now: datetime) -> int:
    """Anonymize events older than the playbook's `retention.events_days`; how many. The
    leads they were taken from are scored again without them, as a re-score scores them."""
    days = playbook.retention.events_days
    if days is None:
        return 0
    cutoff = now - timedelta(days=days)
    count, owners = people.anonymize_events_before(session, cutoff, RETENTION_BATCH)
    if owners:
        pipeline.run_bulk(
            session, playbook, now, cause="retention", actor="retention", lead_ids=owners
        )
    return count
