"""The kept blocks of likely duplicates (`name_blocks`: leads counted by account and
lower-cased, trimmed last name, kept by triggers on `leads`) equal the leads grouped from
scratch after every writer of a lead's name or account: the live path (an identify), /api
edits, an import, a merge, an erasure, an account's deletion and the demo; the indexes
data quality reads by hold what their queries ask for, so the planner takes them; and every
lead's missing account fields, counted as index ranges, equal the grouped pass's count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.core.segment import parse_message
from leadflow.models import Account, Lead, LeadTally, NameBlock
from leadflow.repositories import data_quality
from leadflow.repositories import reports as queries
from leadflow.repositories.report_sql import in_cohort
from leadflow.services import demo, ingest, lead_edits, merge, privacy
from leadflow.services.importing import import_leads
from tests.services.test_lead_tallies import tallies_from_scratch, tallies_kept
from tests.services.test_reports import B2B, NOW, playbook, session

__all__ = ["playbook", "session"]


def _kept(session: Session) -> dict[tuple[int, str], int]:
    session.flush()
    rows = session.execute(select(NameBlock.account_id, NameBlock.name_key, NameBlock.leads))
    return {(account, key): n for account, key, n in rows}


def _from_scratch(session: Session) -> dict[tuple[int, str], int]:
    """The definition: the leads with an account and a last name, grouped (the engine's own
    lower and trim, as the report's blocks were grouped before they were kept)."""
    session.flush()
    key = func.lower(func.trim(Lead.last_name))
    query = (
        select(Lead.account_id, key, func.count())
        .where(Lead.account_id.is_not(None), Lead.last_name.is_not(None))
        .group_by(Lead.account_id, key)
    )
    return {(account, name): n for account, name, n in session.execute(query)}


def _identify(book: Playbook, session: Session, message_id: str, traits: dict[str, Any]) -> None:
    raw = {"type": "identify", "userId": traits["email"], "messageId": message_id,
           "timestamp": (NOW - timedelta(hours=1)).isoformat(), "traits": traits}  # fmt: skip
    ingest.ingest(session, book, [parse_message(raw, NOW)], source="web", now=NOW)


def _acme(session: Session) -> int:
    found = session.scalar(select(Account.id).where(Account.domain == "acme.com"))
    assert found is not None
    return found


def test_kept_blocks_equal_the_leads_grouped_after_every_writer(
    session: Session, playbook: Playbook
) -> None:
    assert _kept(session) == _from_scratch(session)  # the report fixture's own inserts
    smiths = _kept(session)[(_acme(session), "smith")]
    # Live: identified people of acme.com, one with the same name written otherwise.
    _identify(playbook, session, "i1", {"email": "kate@acme.com", "lastName": "Smith"})
    _identify(playbook, session, "i2", {"email": "k2@acme.com", "lastName": "  SMITH "})
    assert _kept(session)[(_acme(session), "smith")] == smiths + 2
    assert _kept(session) == _from_scratch(session)
    # /api: a new lead, then its name changed, removed, and its account changed.
    lead = lead_edits.create_lead(
        session, playbook, {"email": "jo@acme.com", "last_name": "Jones"}, now=NOW
    )
    assert _kept(session) == _from_scratch(session)
    lead_edits.update_lead(session, playbook, lead, {"last_name": "Smith"}, now=NOW)
    assert _kept(session) == _from_scratch(session)
    lead_edits.update_lead(session, playbook, lead, {"last_name": None}, now=NOW)
    assert _kept(session) == _from_scratch(session)
    lead_edits.update_lead(
        session, playbook, lead, {"last_name": "Smith", "company_domain": "other.io"}, now=NOW
    )
    assert _kept(session) == _from_scratch(session)
    # Bulk: an import of new and known people.
    rows = [
        {"email": "kate@acme.com", "last_name": "Brown"},
        {"email": "new1@acme.com", "last_name": "Smith"},
        {"email": "new2@other.io", "last_name": "smith", "company": "Other"},
    ]
    import_leads(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    assert _kept(session) == _from_scratch(session)
    # A merge deletes the duplicate (and may fill the kept lead's name).
    merge.merge_leads(session, playbook, "g@x.io", "k2@acme.com", actor="ana", now=NOW)
    assert _kept(session) == _from_scratch(session)
    # An erasure deletes the person.
    privacy.erase(session, "new1@acme.com", actor="dpo", now=NOW)
    assert _kept(session) == _from_scratch(session)
    # An account's deletion sets its leads' account NULL (the foreign key), by no writer's hand.
    session.execute(delete(Account).where(Account.domain == "other.io"))
    session.expire_all()
    assert _kept(session) == _from_scratch(session)
    assert all(n > 0 for n in _kept(session).values())  # emptied blocks are removed


def test_the_demo_keeps_its_blocks_and_tallies(session: Session) -> None:
    demo.build(session, B2B.read_text(), leads=200, now=NOW, seed=5, train=False)
    assert _kept(session) == _from_scratch(session)
    assert any(n > 1 for n in _kept(session).values())
    # The lead tallies too (one demo build for both): exact, and left folded by the build.
    assert tallies_kept(session) == tallies_from_scratch(session)
    assert session.scalar(select(func.count()).where(LeadTally.folded.is_(False))) == 0


def _plan(session: Session, query: Any) -> str:
    """The plan of `query` as the engine would run it, with sequential scans ruled out on
    PostgreSQL (on a table this small it would scan whatever the indexes)."""
    sql = str(query.compile(session.get_bind()))
    connection = session.connection()
    if session.get_bind().dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        return " ".join(str(row[-1]) for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    # Given parameters (none), the driver reads the compiled text's doubled percent signs.
    return " ".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {sql}", {}))


def test_bad_emails_are_counted_from_their_partial_index(session: Session) -> None:
    bad = (
        select(func.count()).select_from(Lead).where(in_cohort(Cohort()), data_quality.bad_email())
    )
    assert session.scalar(bad) == 1  # "f at x.io"
    assert "ix_leads_bad_email" in _plan(session, bad)


def test_missing_account_fields_of_everyone_count_as_the_grouped_pass(session: Session) -> None:
    # Leads with no account, and accounts lacking some fields but not others.
    bare = Account(domain="bare.io", name="Bare", industry="software")
    session.add_all([bare, Lead(email="n1@bare.io", account_id=None, stage="lead")])
    session.flush()
    session.add(Lead(email="n2@bare.io", account_id=bare.id, stage="lead"))
    columns = ["industry", "employees", "country", "tier"]
    everyone = data_quality.missing_fields(session, Cohort(), [], [], columns)
    # The same leads as a cohort that filters (so counted by the grouped pass).
    since_ever = Cohort(since=datetime(1970, 1, 1, tzinfo=UTC))
    grouped = data_quality.missing_fields(session, since_ever, [], [], columns)
    assert everyone == grouped
    assert everyone.fields["account.industry"] < everyone.fields["account.employees"]


def test_invalid_emails_listed_alike_from_the_index_and_in_id_order(session: Session) -> None:
    for k in (9, 3, 7, 1):
        session.add(Lead(email=None if k == 7 else f"bad {k}@x.io", stage="lead"))
    session.flush()
    found = session.scalar(select(func.count()).select_from(Lead).where(data_quality.bad_email()))
    assert found == 5  # these four and the fixture's "f at x.io"
    few = queries.invalid_emails(session, Cohort(), 3, found)
    many = queries.invalid_emails(session, Cohort(), 3, queries.FEW_BAD_EMAILS + 1)
    assert few == many
    ordered = select(Lead.id).where(data_quality.bad_email()).order_by(Lead.id).limit(3)
    assert [i for i, _ in few] == list(session.scalars(ordered))
    everyone_bad = select(Lead.id, Lead.email).where(in_cohort(Cohort()), data_quality.bad_email())
    assert "ix_leads_bad_email" in _plan(session, everyone_bad)
