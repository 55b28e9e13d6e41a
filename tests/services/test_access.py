"""The access rules the pages and the REST API share: a rep's own leads, everyone else's role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, Forbidden
from leadflow.core.lifecycle import Action
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.report_math import Cohort
from leadflow.core.roles import Permission, Role
from leadflow.models.api_key import ApiKey
from leadflow.models.assignment import Assignment
from leadflow.models.db import make_engine, make_session_factory
from leadflow.models.lead import Lead
from leadflow.models.user import User
from leadflow.repositories import reps as rep_repo
from leadflow.services import access, lifecycle, reps, sla
from leadflow.services.reports import team as team_reports
from tests.conftest import Migrate
from tests.services.test_reports import B2B, NOW

NORA, OLA = "nora@flowline.io", "ola@flowline.io"


def person(email: str, role: str) -> access.Actor:
    return access.Actor.person(User(email=email, name=email, role=role, password_hash="x"))


def lead(owner: str | None) -> Lead:
    return Lead(email="kai@unlisted-co.io", owner=owner)


def test_a_rep_sees_and_acts_on_their_own_and_unowned_leads_only() -> None:
    ola = person(OLA, "rep")
    for permission in (Permission.READ, Permission.SALES):
        assert access.refusal(ola, lead(OLA), permission) is None
        assert access.refusal(ola, lead(None), permission) is None  # accepting claims it
        assert access.refusal(ola, lead(NORA), permission) == (
            f"this lead belongs to {NORA}, not to you"
        )
    with pytest.raises(Forbidden):
        access.check(ola, lead(NORA))
    assert access.owner_scope(ola) == OLA  # the queue: only what was routed to Ola


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_see_and_act_on_every_lead(role: str) -> None:
    boss = person("max@flowline.io", role)
    assert access.refusal(boss, lead(NORA), Permission.SALES) is None
    assert access.owner_scope(boss) is None


def test_marketing_reads_every_lead_but_takes_no_sales_action() -> None:
    mia = person("mia@flowline.io", "marketing")
    assert access.refusal(mia, lead(NORA)) is None
    assert "needs sales permission" in (access.refusal(mia, lead(NORA), Permission.SALES) or "")


def test_a_key_is_a_teams_integration_its_role_alone_decides() -> None:
    sync = access.Actor.key(ApiKey(name="crm sync", role=Role.SALES.value))
    assert access.owner_scope(sync) is None
    assert access.refusal(sync, lead(NORA), Permission.SALES) is None
    site = access.Actor.key(ApiKey(name="website", role=Role.INGEST.value))
    assert "needs read permission" in (access.refusal(site, lead(None)) or "")


@pytest.fixture
def session(database_url: str, migrate: Migrate) -> Iterator[Session]:
    """Sales-ready leads of Nora, of Ola and of nobody, and one of Nora's not sales-ready."""
    migrate(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as db, db.begin():
        for email, stage, owner in (("a@x.io", "sql", NORA), ("b@x.io", "sql", OLA),
                                    ("c@x.io", "sql", None), ("d@x.io", "mql", NORA)):  # fmt: skip
            db.add(Lead(email=email, stage=stage, owner=owner, created_at=NOW, updated_at=NOW))
        db.flush()
        yield db
    engine.dispose()


def test_the_queue_shows_a_rep_their_own_leads_and_a_manager_every_lead(session: Session) -> None:
    book = parse_playbook(B2B.read_text())

    def emails(actor: access.Actor) -> set[str]:
        return {row["lead"].email for row in access.queue(session, actor, book, NOW)}

    assert emails(person(NORA, "rep")) == {"a@x.io"}
    assert emails(person(OLA, "rep")) == {"b@x.io"}
    assert emails(person("max@flowline.io", "manager")) == {"a@x.io", "b@x.io", "c@x.io"}


def test_a_reps_queue_shows_the_unowned_leads_of_their_team_they_may_accept(
    session: Session,
) -> None:
    """Before: a lead left in a team's queue (nobody there could take it) was in no rep's
    queue, though any active rep may accept it; only managers saw it."""
    for email, team, active in ((NORA, "inbound", True), (OLA, "smb", True),
                                ("ida@flowline.io", "inbound", False)):  # fmt: skip
        reps.add_rep(session, {"email": email, "name": email, "team": team, "active": active},
                     now=NOW)  # fmt: skip
    session.add(Lead(email="e@x.io", stage="sql", owner=None, created_at=NOW, updated_at=NOW))
    session.add(Lead(email="f@x.io", stage="sql", owner=OLA, created_at=NOW, updated_at=NOW))
    session.flush()
    ids = dict(session.execute(select(Lead.email, Lead.id)).tuples().all())
    for email, team in (("c@x.io", "inbound"), ("e@x.io", "smb"), ("f@x.io", "inbound")):
        rep_repo.add_assignment(session, lead_id=ids[email], rep_id=None, team=team,
                                stage="sql", reason="nobody available", assigned_at=NOW,
                                sla_due_at=NOW + timedelta(hours=4))  # fmt: skip
    book = parse_playbook(B2B.read_text())

    def shown(actor: access.Actor) -> dict[str, tuple[str | None, bool]]:
        return {row["lead"].email: (row["team_queue"], row["may_accept"])
                for row in access.queue(session, actor, book, NOW)}  # fmt: skip

    # Nora: her own lead, and inbound's unowned one, labelled with the queue it waits in;
    # not smb's, nor the inbound lead Ola accepted since.
    assert shown(person(NORA, "rep")) == {"a@x.io": (None, True), "c@x.io": ("inbound", True)}
    assert shown(person(OLA, "rep")) == {
        "b@x.io": (None, True), "e@x.io": ("smb", True), "f@x.io": (None, True),
    }  # fmt: skip
    assert shown(person("ida@flowline.io", "rep")) == {}  # inactive: may accept none of them
    assert shown(person("zoe@flowline.io", "rep")) == {}  # a rep's sign-in but no rep
    everything = shown(person("max@flowline.io", "manager"))
    assert everything["c@x.io"] == ("inbound", False) and everything["a@x.io"] == (None, False)


def test_visible_leads_follow_the_same_rules() -> None:
    owners = {1: "nora@flowline.io", 2: None, 3: "cy@flowline.io"}
    assert access.visible(person("nora@flowline.io", "rep"), owners) == {1, 2}
    assert access.visible(person("max@flowline.io", "manager"), owners) == {1, 2, 3}
    key = access.Actor("crm sync", frozenset(), own_leads_only=False)
    assert access.visible(key, owners) == set()  # no read permission: nothing


def test_accept_is_offered_where_the_rule_allows_it_and_refused_elsewhere(
    session: Session,
) -> None:
    """A lead is accepted by an active rep, and one with an owner by its owner only: the
    queue offers Accept where that holds, and the pages and the API refuse it where not."""
    for email, active in ((NORA, True), ("max@flowline.io", True), ("ida@flowline.io", False)):
        fields = {"email": email, "name": email, "team": "managers", "active": active}
        reps.add_rep(session, fields, now=NOW)
    book = parse_playbook(B2B.read_text())

    def offered(actor: access.Actor) -> dict[str, bool]:
        return {row["lead"].email: row["may_accept"]
                for row in access.queue(session, actor, book, NOW)}  # fmt: skip

    assert offered(person(NORA, "rep")) == {"a@x.io": True}
    # Max, a manager who is a rep too: nobody's lead, not Nora's or Ola's.
    assert offered(person("max@flowline.io", "manager")) == {
        "a@x.io": False, "b@x.io": False, "c@x.io": True,
    }  # fmt: skip
    for nobody in ("ida@flowline.io", "ada@flowline.io"):  # no longer a rep; never one
        assert set(offered(person(nobody, "admin")).values()) == {False}
    assert reps.accepting_person(session, None, "max@flowline.io") == "max@flowline.io"
    assert reps.accepting_person(session, NORA, NORA) == NORA
    with pytest.raises(Conflict) as by_page:
        reps.accepting_person(session, NORA, "max@flowline.io")
    with pytest.raises(Conflict) as by_key:  # the API's and the CLI's rule is the same one
        reps.accepting_rep(session, NORA, "max@flowline.io")
    assert (
        by_page.value.message
        == by_key.value.message
        == (f"the lead belongs to {NORA}; only they can accept it")
    )
    with pytest.raises(Forbidden, match=r"ida@flowline\.io is not an active rep"):
        reps.accepting_person(session, None, "ida@flowline.io")


def test_a_rep_accepting_a_lead_from_the_team_queue_becomes_its_hand_offs_rep(
    session: Session,
) -> None:
    """Before, accepting an unowned lead made the rep its owner but left the hand-off with no
    rep, so speed to lead and the SLA per rep counted it under the team queue."""
    reps.add_rep(session, {"email": NORA, "name": "Nora", "team": "inbound"}, now=NOW)
    session.add(Lead(email="q@x.io", stage="sql", owner=None, created_at=NOW, updated_at=NOW))
    session.flush()
    lead = session.scalars(select(Lead).where(Lead.email == "q@x.io")).one()
    rep_repo.add_assignment(session, lead_id=lead.id, rep_id=None, team="inbound", stage="sql",
                            reason="nobody available", assigned_at=NOW,
                            sla_due_at=NOW + timedelta(hours=4))  # fmt: skip
    later = NOW + timedelta(minutes=20)
    sla.touch(session, lead.id, later)  # a note first: the first touch, not yet accepted
    lifecycle.act(session, lead, Action.ACCEPT, actor=NORA, reason="mine", now=later,
                  owner=NORA)  # fmt: skip
    handoff = session.scalars(select(Assignment).where(Assignment.lead_id == lead.id)).one()
    nora = rep_repo.get_by_email(session, NORA)
    assert handoff is not None and nora is not None
    assert (lead.owner, handoff.rep_id, handoff.status) == (NORA, nora.id, "met")
    book = parse_playbook(B2B.read_text())
    speed = team_reports.speed_to_lead(session, book, Cohort(), NOW, later)
    assert [(r["rep"], r["handoffs"], r["met"]) for r in speed["rows"]] == [("Nora", 1, 1)]
