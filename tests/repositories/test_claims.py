"""Claims on names: one form per address, and a claim of many names that fits PostgreSQL's
lock table (about 6,400 locks for the whole server by default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine, make_session_factory
from leadflow.repositories import claims

HELD = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")


@pytest.fixture
def postgresql_session(postgresql_url: str) -> Iterator[Session]:
    """A session in an open transaction (claims need no tables)."""
    engine = make_engine(postgresql_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def test_an_address_is_claimed_in_its_one_form() -> None:
    written = ["Ana@Example.COM", " ana@example.com ", "ana@EXAMPLE.com."]
    assert claims.names_of(emails=written) == {"email:ana@example.com"}
    assert claims.names_of(keys=["a-1", "user:u-1"], domains=["acme.com"]) == {
        "key:a-1",
        "key:user:u-1",
        "domain:acme.com",
    }


@pytest.mark.postgres
def test_a_few_names_are_claimed_each(postgresql_session: Session) -> None:
    claims.claim_people(postgresql_session, emails=["a@x.com", "b@x.com"], keys=["a-1"])
    assert postgresql_session.scalar(HELD) == 3


@pytest.mark.postgres
def test_an_import_of_many_addresses_claims_their_buckets(postgresql_session: Session) -> None:
    """20,000 addresses one by one would need more locks than the server has room for (out of
    shared memory): their buckets are claimed instead."""
    emails = [f"p{n}@company{n % 500}.com" for n in range(20_000)]
    claims.claim_people(postgresql_session, emails=emails)
    assert postgresql_session.scalar(HELD) == claims.BUCKETS


@pytest.mark.postgres
def test_a_merge_claims_its_addresses_and_their_buckets(postgresql_session: Session) -> None:
    claims.claim_people(postgresql_session, emails=["k@x.com", "d@x.com"], freeing=True)
    buckets = {claims.bucket_of(name) for name in claims.names_of(emails=["k@x.com", "d@x.com"])}
    assert postgresql_session.scalar(HELD) == 2 + len(buckets)
