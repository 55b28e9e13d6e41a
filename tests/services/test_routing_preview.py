"""Who would get this lead (`/team/route`), against the hand-off itself: made-up facts are
completed as a lead's are (the tier from the account's domain, under both its names; the
e-mail's domain; the grade's letter and digit), so the preview names the team, rep and reason
a lead with those facts then gets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models import Assignment, Lead
from leadflow.repositories import reps as rep_repo
from leadflow.services import ingest, playbooks, reps, routing_preview

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
BOOK = """
name: Routing what-ifs
tiers:
  - {id: top, label: Top accounts, max_accounts: 10, domains: [fabrikam.io]}
lifecycle:
  lead: {field: email, exists: true}
  hand_raisers:
    - {label: Demo requested, stage: sql, event: {type: track, name: Demo Requested}}
  sales_ready: [sql]
routing:
  rules:
    - {id: named_accounts, when: {field: account.tier, in: [top]}, team: enterprise}
    - {id: partners, when: {field: email_domain, in: [partner.io]}, team: partners}
    - {id: best_fit, when: {field: fit_letter, equals: A}, team: priority}
  fallback: inbound
"""
TEAMS = ("enterprise", "partners", "priority", "inbound")


def _team_of_reps(session: Session) -> None:
    playbooks.install(session, BOOK, author="t", now=NOW)
    for team in TEAMS:
        fields = {"email": f"{team}@flowline.io", "name": team.title(), "team": team,
                  "working_hours": "mon-sun 00:00-24:00", "timezone": "UTC"}  # fmt: skip
        reps.add_rep(session, fields, now=NOW)


@pytest.mark.parametrize(
    ("typed", "team"),
    [
        ("tier: top", "enterprise"),
        ("account.tier: top", "enterprise"),
        ("account.domain: fabrikam.io", "enterprise"),
        ("email: bo@partner.io", "partners"),
        ("grade: A2", "priority"),
        ("country: DE", "inbound"),
    ],
)
def test_made_up_facts_route_as_a_lead_with_them_would(
    session: Session, typed: str, team: str
) -> None:
    _team_of_reps(session)
    preview = routing_preview.for_facts(session, typed, NOW)
    assert (preview.team, preview.rep) == (team, f"{team.title()} <{team}@flowline.io>")


def test_the_preview_for_an_accounts_domain_is_the_hand_off_its_lead_then_gets(
    session: Session,
) -> None:
    _team_of_reps(session)
    preview = routing_preview.for_facts(session, "account.domain: fabrikam.io", NOW)
    demo = {"type": "track", "event": "Demo Requested", "userId": "ana@fabrikam.io",
            "messageId": "m1", "timestamp": NOW.isoformat(), "properties": {}}  # fmt: skip
    messages, rejected = ingest.parse_all([demo], NOW)
    assert not rejected
    ingest.ingest(session, playbooks.active_playbook(session), messages, source="t", now=NOW)
    lead = session.scalars(select(Lead).where(Lead.email == "ana@fabrikam.io")).one()
    made = session.scalars(select(Assignment).where(Assignment.lead_id == lead.id)).one()
    rep = rep_repo.get(session, made.rep_id) if made.rep_id is not None else None
    assert rep is not None
    handed = (made.team, f"{rep.name} <{rep.email}>", made.reason)
    assert (preview.team, preview.rep, preview.reason) == handed


def test_a_derived_fact_typed_itself_is_taken_as_typed(session: Session) -> None:
    """`tier: top` with no domain: the tier as typed, under both its names."""
    _team_of_reps(session)
    preview = routing_preview.for_facts(session, "tier: top\nfit_letter: A", NOW)
    assert preview.team == "enterprise"
    assert (preview.facts["tier"], preview.facts["account.tier"]) == ("top", "top")
