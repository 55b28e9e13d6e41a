"""Merging a likely duplicate the data-quality report found."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.errors import Invalid, NotFound
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.models import Assignment, Event, Lead
from leadflow.services import leads, merge, reports
from tests.services import account_scenario
from tests.services.test_reports import NOW, playbook, session

__all__ = ["playbook", "session"]


def test_a_duplicate_folds_into_the_lead_kept(session: Session, playbook: Playbook) -> None:
    before = reports.run(session, playbook, "data_quality", Cohort(), reports.Options(), NOW)
    [pair] = before["duplicates"]  # Katherine (a@x.io, a customer) and Kate (g@x.io, an SQL)
    result = merge.merge_leads(session, playbook, "g@x.io", "a@x.io", actor="ana", now=NOW)
    assert result == {"kept": "g@x.io", "merged": "a@x.io", "events_moved": 3}
    kept = session.scalar(select(Lead).where(Lead.email == "g@x.io"))
    assert kept is not None and session.scalar(select(Lead).where(Lead.email == "a@x.io")) is None
    assert (kept.first_name, kept.title) == ("Kate", "VP Operations")  # own value kept, gap filled
    assert (kept.stage, kept.outcome, kept.outcome_amount) == ("customer", "won", 1000.0)
    history = leads.detail(session, "g@x.io", playbook, NOW)["stage_history"]
    assert history[-1]["reason"] == "merged with a@x.io, which was customer"
    assert history[-1]["actor"] == "ana"
    events = session.scalar(select(func.count()).where(Event.lead_id == kept.id))
    assert events == 4  # three moved and the merge note
    handoffs = session.scalar(select(func.count()).where(Assignment.lead_id == kept.id))
    assert handoffs == 2
    after = reports.run(session, playbook, "data_quality", Cohort(), reports.Options(), NOW)
    assert after["duplicates"] == [] and pair
    funnel = reports.run(session, playbook, "funnel", Cohort(), reports.Options(), NOW)
    assert [r["reached"] for r in funnel["rows"]] == [6, 5, 4, 3, 2]  # two records, one person


def test_bad_merges_are_refused(session: Session, playbook: Playbook) -> None:
    with pytest.raises(Invalid, match="itself"):
        merge.merge_leads(session, playbook, "a@x.io", "a@x.io", actor="ana", now=NOW)
    with pytest.raises(NotFound):
        merge.merge_leads(session, playbook, "a@x.io", "nobody@x.io", actor="ana", now=NOW)


def test_the_duplicates_account_no_longer_counts_it(sessions: sessionmaker[Session]) -> None:
    """Ann's acme record (20 points) folded into her globex one (10): acme keeps only Bob, as
    a full re-score counts it, and Bob's next event is counted from there."""
    with sessions() as session, session.begin():
        book = account_scenario.installed(session)
        at = account_scenario.T0
        for message_id, email in (("a1", "ann@acme.com"), ("a2", "ann@acme.com"),
                                  ("b1", "bob@acme.com"), ("g1", "ann@globex.io")):  # fmt: skip
            account_scenario.page(session, book, email, message_id, at)
        domains = ["acme.com", "globex.io"]

        merge.merge_leads(session, book, "ann@globex.io", "ann@acme.com", actor="ana", now=at)

        account_scenario.agrees_now_and_after_bobs_next_page(
            session, book, domains, at, {"acme.com": (0, 10, 10, 1), "globex.io": (0, 30, 30, 1)}
        )
