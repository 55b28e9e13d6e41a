"""The pipeline's stage step for the colleagues of leads that change accounts, when stage
criteria read `account.score`: what a full re-score gives them, on every path."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.models import Lead
from leadflow.services import pipeline, playbooks
from leadflow.services.importing import import_leads
from leadflow.services.lead_edits import update_lead
from tests.services import account_scenario
from tests.services.rescored import as_rescored

# An MQL whose account's score falls under the criteria goes back to lead.
FALLS_BACK = account_scenario.BOOK.replace("routing:", "  on_decay: fall_back\nrouting:")


def _stages(session: Session) -> dict[str, str]:
    session.flush()
    session.expire_all()
    return {lead.email: lead.stage for lead in session.scalars(select(Lead))}


def _rescored_stages(session: Session, book: Playbook, at: datetime) -> dict[str, str]:
    return as_rescored(session, book, at, _stages)


def test_colleagues_at_the_account_a_lead_left_are_moved_by_the_next_sweep(
    session: Session,
) -> None:
    """Bob (10 points) and Cy (20) make acme 30, both MQL; Cy's lead edited to initech.com
    leaves acme at 10: the worker's next sweep takes Bob back to lead, as a re-score does."""
    playbooks.install(session, FALLS_BACK, author="test", now=account_scenario.T0)
    book = playbooks.active_playbook(session)
    at = account_scenario.T0
    for message_id, email in (("b1", "bob@acme.com"), ("c1", "cy@acme.com"),
                              ("c2", "cy@acme.com")):  # fmt: skip
        account_scenario.page(session, book, email, message_id, at)
    pipeline.run_account_peers(session, book, at)
    assert _stages(session) == {"bob@acme.com": "mql", "cy@acme.com": "mql"}
    later = at + timedelta(seconds=1)
    cy = session.scalar(select(Lead).where(Lead.email == "cy@acme.com"))
    assert cy is not None

    update_lead(session, book, cy, {"domain": "initech.com"}, now=later)
    pipeline.run_account_peers(session, book, later)

    assert _stages(session) == {"bob@acme.com": "lead", "cy@acme.com": "lead"}
    assert _stages(session) == _rescored_stages(session, book, later)


def test_colleagues_at_the_account_an_import_moves_a_lead_to_are_moved_at_once(
    session: Session,
) -> None:
    """Bob (10 points) at acme, Cy (20) at initech: an import that puts Cy at acme makes acme
    30, and Bob an MQL with it, as a re-score does (an import is a bulk run: no sweep waits)."""
    book = account_scenario.installed(session)
    at = account_scenario.T0
    for message_id, email in (("b1", "bob@acme.com"), ("c1", "cy@initech.com"),
                              ("c2", "cy@initech.com")):  # fmt: skip
        account_scenario.page(session, book, email, message_id, at)
    pipeline.run_account_peers(session, book, at)
    later = at + timedelta(seconds=1)

    rows = [(2, {"email": "cy@initech.com", "domain": "acme.com"})]
    report = import_leads(session, rows, skip_invalid=False, now=later)
    pipeline.run_import(session, book, report, later, actor="import")

    assert _stages(session) == {"bob@acme.com": "mql", "cy@initech.com": "mql"}
    assert _stages(session) == _rescored_stages(session, book, later)


SOFTWARE = """
name: software
fit:
  rules:
    - {id: software, label: Software, points: 10, when: {field: account.industry, equals: Software}}
"""


def test_an_import_that_fills_in_an_account_re_scores_the_people_already_there(
    session: Session,
) -> None:
    """acme has no industry and Bob; an import of Cy says acme is a software company: Bob
    scores on that at once, as a re-score scores him."""
    playbooks.install(session, SOFTWARE, author="test", now=account_scenario.T0)
    book = playbooks.active_playbook(session)
    at = account_scenario.T0
    account_scenario.page(session, book, "bob@acme.com", "b1", at)

    rows = [(2, {"email": "cy@acme.com", "industry": "Software"})]
    report = import_leads(session, rows, skip_invalid=False, now=at)
    pipeline.run_import(session, book, report, at, actor="import")

    assert _fits(session) == {"bob@acme.com": 10, "cy@acme.com": 10}
    assert _fits(session) == _rescored_fits(session, book, at)


def _fits(session: Session) -> dict[str, float]:
    session.flush()
    session.expire_all()
    return {lead.email: lead.fit for lead in session.scalars(select(Lead))}


def _rescored_fits(session: Session, book: Playbook, at: datetime) -> dict[str, float]:
    return as_rescored(session, book, at, _fits)
