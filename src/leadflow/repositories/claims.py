"""Claims on names (an e-mail, a company domain, a visitor id) held until the commit.

Two transactions that create the same new people and companies in different orders would wait
for each other crosswise on the unique keys (a deadlock). Claiming every name a batch may
create, in one global order, before creating any, makes the second wait for the first instead.
And a merge claims the addresses it folds in: a creator that claimed the address before it
looked it up waits for the merge, then finds the lead kept, never making the duplicate again
(it would, waiting only on the duplicate's row: the merge deletes it). An erasure claims the
person's addresses and keys the same way: a creator that waited for it reads the person's
tombstones after its claim, and drops what it would have made again.

Every path that makes a lead, or gives one an e-mail or a visitor id, claims through
`claim_people` (names in one form: an address as `email_identity` keeps it). A claim of a few
names takes each; a claim of more than `ONE_BY_ONE` (an import) would fill PostgreSQL's lock
table (about 6,400 locks for the whole server by default), so it takes its names' buckets
(`BUCKETS`, shared with other big claims) instead. A merge or an erasure, which deletes a lead
and so frees its address, takes its names' buckets exclusively as well: it waits for a big
claim of them, and one waits for it. PostgreSQL only (transaction-level advisory locks);
SQLite has one writer at a time.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from leadflow.core.addresses import email_identity

_CLAIM = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k")
# Buckets are locks of the two-key space, apart from the names' one-key space.
_BUCKETS_SHARED = text(
    "SELECT count(pg_advisory_xact_lock_shared(:space, b)) FROM unnest(CAST(:buckets AS int[])) b"
)
_BUCKETS_ALONE = text(
    "SELECT count(pg_advisory_xact_lock(:space, b)) FROM unnest(CAST(:buckets AS int[])) AS b"
)
BUCKET_SPACE = 0x1EAD  # the first key of a bucket's lock (leadflow's)
BUCKETS = 256
ONE_BY_ONE = 256  # names claimed each; more are claimed by their buckets


def lock_number(name: str) -> int:
    """The 64-bit advisory lock number of a name (namespaced to leadflow)."""
    digest = hashlib.blake2b(f"leadflow:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def bucket_of(name: str) -> int:
    """The bucket a name falls in (of BUCKETS; a CRC, a third of `lock_number`'s cost: a big
    claim computes one per name)."""
    return zlib.crc32(name.encode()) % BUCKETS


def email_name(address: str) -> str:
    """The name an e-mail address is claimed under, in its one form however it is written."""
    return f"email:{email_identity(address)}"


def names_of(
    *, emails: Iterable[str] = (), keys: Iterable[str] = (), domains: Iterable[str] = ()
) -> set[str]:
    """The names of these e-mail addresses, identity keys (an anonymous id, `user:<id>`) and
    company domains (as `companies.company_domain` keeps them)."""
    return {
        *map(email_name, emails),
        *(f"key:{key}" for key in keys),
        *(f"domain:{domain}" for domain in domains),
    }


def may_have_waited(session: Session) -> bool:
    """Whether a claim taken in this transaction may have waited for another's commit, which
    what the transaction read before the claim did not see (PostgreSQL). On SQLite a writer
    sees every commit made before it began: there is one writer at a time."""
    return session.get_bind().dialect.name == "postgresql"


def claim_people(
    session: Session,
    *,
    emails: Iterable[str] = (),
    keys: Iterable[str] = (),
    domains: Iterable[str] = (),
    freeing: bool = False,
) -> None:
    """Claim the names of the people and companies a transaction may make or re-key, before
    it looks any of them up; `freeing`: it deletes a lead that has one of these addresses (a
    merge). Held until the commit, buckets before names, each in ascending order."""
    if session.get_bind().dialect.name != "postgresql":
        return  # before the names are made: an import of a million rows would pay for them
    claim(session, names_of(emails=emails, keys=keys, domains=domains), freeing=freeing)


def claim(session: Session, names: Iterable[str], *, freeing: bool = False) -> None:
    """Hold these names until the commit (see `claim_people`)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    wanted = set(names)
    if not wanted:
        return
    buckets = sorted({bucket_of(name) for name in wanted})
    if freeing or len(wanted) > ONE_BY_ONE:
        statement = _BUCKETS_ALONE if freeing else _BUCKETS_SHARED
        session.execute(statement, {"space": BUCKET_SPACE, "buckets": buckets})
    if freeing or len(wanted) <= ONE_BY_ONE:
        session.execute(_CLAIM, {"keys": sorted({lock_number(name) for name in wanted})})
