"""A lead that changes accounts live (an edit, a group call): both accounts' roll-ups and
scores are what a full re-score gives, whether the account it joins was rolled up before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.models import Lead
from leadflow.services import pipeline, playbooks
from leadflow.services.importing import import_events
from leadflow.services.ingest.batch import ingest, parse_all
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


def _scored_in_bulk(session: Session) -> Playbook:
    """Bob (one page, 10 points) and Cy (two, 20) at acme, imported and scored in bulk: no
    live roll-up has counted either of them yet (what `leadflow import` or `rescore` leaves)."""
    book = account_scenario.installed(session)
    at = account_scenario.T0.isoformat()
    rows = [{"email": email, "type": "page", "timestamp": at, "message_id": message_id}
            for message_id, email in (("b1", "bob@acme.com"), ("c1", "cy@acme.com"),
                                      ("c2", "cy@acme.com"))]  # fmt: skip
    report = import_events(session, enumerate(rows, 2), skip_invalid=False, now=account_scenario.T0)
    pipeline.run_import(session, book, report, account_scenario.T0, actor="import")
    assert account_scenario.figures(session, ["acme.com"]) == {"acme.com": (0, 30, 30, 2)}
    return book


def test_a_lead_scored_in_bulk_edited_to_another_account_leaves_its_own(session: Session) -> None:
    book = _scored_in_bulk(session)
    cy = session.scalars(select(Lead).where(Lead.email == "cy@acme.com")).one()
    later = account_scenario.T0 + timedelta(seconds=1)

    update_lead(session, book, cy, {"domain": "initech.com"}, now=later)

    account_scenario.agrees_now_and_after_bobs_next_page(
        session, book, ["acme.com", "initech.com"], later,
        {"acme.com": (0, 10, 10, 1), "initech.com": (0, 20, 20, 1)},
    )  # fmt: skip


def test_a_lead_scored_in_bulk_grouped_to_another_account_leaves_its_own(
    session: Session,
) -> None:
    book = _scored_in_bulk(session)
    later = account_scenario.T0 + timedelta(seconds=1)
    group = {"type": "group", "userId": "cy@acme.com", "groupId": "initech.com",
             "messageId": "g1", "timestamp": later.isoformat()}  # fmt: skip
    messages, rejected = parse_all([group], later)
    assert not rejected

    ingest(session, book, messages, source="test", now=later)

    account_scenario.agrees_now_and_after_bobs_next_page(
        session, book, ["acme.com", "initech.com"], later,
        {"acme.com": (0, 10, 10, 1), "initech.com": (0, 20, 20, 1)},
    )  # fmt: skip


DECAYING = account_scenario.BOOK.replace(
    "{id: pages, label: Pages, points: 10, decay: false,", "{id: pages, label: Pages, points: 10,"
).replace("engagement:\n", "engagement:\n  half_life_days: 2.0\n")


def test_a_decay_sweep_over_leads_scored_live_and_in_bulk_scores_their_account_as_a_re_score(
    session: Session,
) -> None:
    """Bob and Cy imported (scored in bulk, no states), then Bob's page counted live: the
    sweep a day later ages Bob's state and re-scores Cy from his events in one pass; acme is
    the sum of what they show, as a re-score gives it."""
    playbooks.install(session, DECAYING, author="test", now=account_scenario.T0)
    book = playbooks.active_playbook(session)
    at = account_scenario.T0
    rows = [{"email": email, "type": "page", "timestamp": at.isoformat(), "message_id": key}
            for key, email in (("b1", "bob@acme.com"), ("c1", "cy@acme.com"))]  # fmt: skip
    report = import_events(session, enumerate(rows, 2), skip_invalid=False, now=at)
    pipeline.run_import(session, book, report, at, actor="import")
    account_scenario.page(session, book, "bob@acme.com", "b2", at)
    later = at + timedelta(days=1)

    pipeline.run_decay(session, book, later)

    shown = account_scenario.figures(session, ["acme.com"])
    people = session.scalars(select(Lead.engagement).where(Lead.email.like("%@acme.com")))
    assert shown["acme.com"][1] == round(sum(people), 2)
    assert shown == account_scenario.rescored(session, book, ["acme.com"], later)
