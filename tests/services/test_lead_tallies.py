"""The lead tallies (`repositories/lead_tallies.py`, kept by triggers) sum to the leads
grouped from scratch after every writer: tracking calls, /api edits, an import, a merge, an
erasure (the demo, whose build leaves them folded: `test_name_blocks`, which builds it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.segment import parse_message
from leadflow.models import Lead, LeadTally
from leadflow.models.lead_tally import CONTACT_FIELDS
from leadflow.repositories.report_sql import month_of
from leadflow.services import ingest, lead_edits, merge, privacy
from leadflow.services.importing import import_leads
from tests.services.test_reports import NOW, playbook, session

__all__ = ["playbook", "session"]
GROUPS = ("source", "medium", "campaign", "persona", "stage", "reached_rank", "outcome")


def tallies_kept(session: Session) -> dict[tuple[Any, ...], tuple[int, ...]]:
    session.flush()
    keys = [LeadTally.month, *(getattr(LeadTally, g) for g in GROUPS)]
    sums = [func.sum(LeadTally.leads), *(func.sum(getattr(LeadTally, f"lacking_{c}"))
                                          for c in CONTACT_FIELDS)]  # fmt: skip
    query = select(*keys, *sums).group_by(*keys).having(func.sum(LeadTally.leads) != 0)
    return {tuple(row[: len(keys)]): tuple(int(v) for v in row[len(keys) :])
            for row in session.execute(query)}  # fmt: skip


def tallies_from_scratch(session: Session) -> dict[tuple[Any, ...], tuple[int, ...]]:
    session.flush()
    keys = [month_of(session, Lead.created_at), *(getattr(Lead, g) for g in GROUPS)]
    sums = [func.count(), *(func.count() - func.count(getattr(Lead, c)) for c in CONTACT_FIELDS)]
    query = select(*keys, *sums).group_by(*keys)
    return {tuple(row[: len(keys)]): tuple(int(v) for v in row[len(keys) :])
            for row in session.execute(query)}  # fmt: skip


def _identify(book: Playbook, session: Session, message_id: str, traits: dict[str, Any]) -> None:
    raw = {"type": "identify", "userId": traits["email"], "messageId": message_id,
           "timestamp": (NOW - timedelta(hours=1)).isoformat(), "traits": traits}  # fmt: skip
    ingest.ingest(session, book, [parse_message(raw, NOW)], source="web", now=NOW)


def test_tallies_equal_the_leads_grouped_after_every_writer(
    session: Session, playbook: Playbook
) -> None:
    assert tallies_kept(session) == tallies_from_scratch(
        session
    )  # the report fixture's own inserts
    _identify(playbook, session, "i1", {"email": "kate@acme.com", "title": "CFO"})
    _identify(playbook, session, "i2", {"email": "k2@acme.com", "lastName": "Smith"})
    assert tallies_kept(session) == tallies_from_scratch(session)
    lead = lead_edits.create_lead(session, playbook, {"email": "jo@acme.com"}, now=NOW)
    lead_edits.update_lead(session, playbook, lead, {"title": "VP Finance"}, now=NOW)
    lead_edits.update_lead(session, playbook, lead, {"country": None, "phone": "1"}, now=NOW)
    assert tallies_kept(session) == tallies_from_scratch(session)
    rows = [{"email": "kate@acme.com", "last_name": "Brown", "lifecyclestage": "customer"},
            {"email": "new1@acme.com", "job_title": "CTO"}]  # fmt: skip
    import_leads(session, enumerate(rows, 2), skip_invalid=False, now=NOW)
    assert tallies_kept(session) == tallies_from_scratch(session)
    merge.merge_leads(session, playbook, "g@x.io", "k2@acme.com", actor="ana", now=NOW)
    privacy.erase(session, "new1@acme.com", actor="dpo", now=NOW)
    session.expire_all()
    assert tallies_kept(session) == tallies_from_scratch(session)
