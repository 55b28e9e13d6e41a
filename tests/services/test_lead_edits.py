"""Lead edits that name a company by domain or website: the account they join keeps its name
unless a company name is sent, merged accounts' domains included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.models import Account, Lead
from leadflow.services import accounts, playbooks
from leadflow.services.lead_edits import create_lead, update_lead
from tests.services.rescored import as_rescored

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


SIZED = """
name: sized
fit:
  rules:
    - {id: software, label: Software, points: 10, when: {field: account.industry, equals: Software}}
    - {id: big, label: Big, points: 5, when: {field: account.employees, gte: 100}}
"""


def _fits(session: Session) -> dict[str, float]:
    session.flush()
    session.expire_all()
    return {lead.email: lead.fit for lead in session.scalars(select(Lead))}


def _rescored_fits(session: Session, book: Playbook) -> dict[str, float]:
    return as_rescored(session, book, NOW, _fits)


def test_an_edit_that_sends_its_company_s_figures_re_scores_the_colleagues_there(
    session: Session,
) -> None:
    """Ann's edit says acme is a 400-person software company: Bob, at acme too, scores on
    what acme is now, as a re-score (and an edit of the account itself) scores him."""
    playbooks.install(session, SIZED, author="t", now=NOW)
    book = playbooks.active_playbook(session)
    create_lead(session, book, {"email": "bob@acme.com"}, now=NOW)
    ann = create_lead(session, book, {"email": "ann@acme.com"}, now=NOW)
    assert _fits(session) == {"bob@acme.com": 0, "ann@acme.com": 0}

    update_lead(session, book, ann, {"industry": "Software", "employees": 400}, now=NOW)

    assert _fits(session) == {"bob@acme.com": 15, "ann@acme.com": 15}
    assert _fits(session) == _rescored_fits(session, book)
