"""A lead that changes accounts live (an edit, a group call): both accounts' roll-ups and
scores are what a full re-score gives, whether the account it joins was rolled up before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models import Lead
from leadflow.services.lead_edits import update_lead
from tests.services import account_scenario


def test_the_account_a_lead_leaves_for_a_new_one_stops_counting_it(session: Session) -> None:
    """Bob (10 points) and his colleague Cy (20) at acme; Cy's lead is edited to initech.com,
    an account nobody has rolled up yet: acme keeps only Bob."""
    book = account_scenario.installed(session)
    at = account_scenario.T0
    for message_id, email in (("b1", "bob@acme.com"), ("c1", "cy@acme.com"),
                              ("c2", "cy@acme.com")):  # fmt: skip
        account_scenario.page(session, book, email, message_id, at)
    cy = session.scalar(select(Lead).where(Lead.email == "cy@acme.com"))
    assert cy is not None
    later = at + timedelta(seconds=1)

    update_lead(session, book, cy, {"domain": "initech.com"}, now=later)

    account_scenario.agrees_now_and_after_bobs_next_page(
        session, book, ["acme.com", "initech.com"], later,
        {"acme.com": (0, 10, 10, 1), "initech.com": (0, 20, 20, 1)},
    )  # fmt: skip
