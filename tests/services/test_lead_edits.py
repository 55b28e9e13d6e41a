"""Lead edits that name a company by domain or website: the account they join keeps its name
unless a company name is sent, merged accounts' domains included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models import Account
from leadflow.services import accounts, playbooks
from leadflow.services.lead_edits import create_lead, update_lead

NOW = datetime(2026, 6, 1, tzinfo=UTC)
B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"


def _names(session: Session) -> dict[str, str]:
    session.flush()
    return {a.domain: a.name for a in session.scalars(select(Account))}


def test_a_domain_or_website_alone_never_renames_the_account(session: Session) -> None:
    playbooks.apply(session, B2B.read_text(), author="t", now=NOW)
    book = playbooks.active_playbook(session)
    create_lead(session, book, {"email": "a@acme.com", "company": "Acme Inc"}, now=NOW)
    create_lead(session, book, {"email": "b@acme-corp.com", "company": "Acme Corp"}, now=NOW)
    accounts.merge(session, book, "acme-corp.com", "acme.com", actor="ana", now=NOW)
    lead = create_lead(session, book, {"email": "c@gmail.com", "domain": "acme.com"}, now=NOW)
    assert _names(session)["acme.com"] == "Acme Inc"
    update_lead(session, book, lead, {"website": "https://www.acme-corp.com/x"}, now=NOW)
    assert _names(session) == {"acme.com": "Acme Inc"}
    # A new account is still named by its domain, and a name sent still renames.
    update_lead(session, book, lead, {"domain": "initech.com"}, now=NOW)
    assert _names(session)["initech.com"] == "initech.com"
    update_lead(session, book, lead, {"domain": "initech.com", "company": "Initech"}, now=NOW)
    assert _names(session)["initech.com"] == "Initech"
