"""Merging two records of one person that were handed off (`POST /api/leads/{key}/merge`):
the lead kept has one hand-off waiting for its first touch, it is its newest, and the lead's
owner is that hand-off's; an owner who loses the person is told who has it now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.roles import Role
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.repositories import reps as rep_repo
from leadflow.services import playbooks, sla
from tests.api.conftest import bearer
from tests.api.test_handoff import demo_request, receiver, secret
from tests.api.test_owner_change import bell, reassigned, signed_in

__all__ = ["receiver", "secret"]
LEE, LEE_2 = "lee@contoso-mfg.com", "lee.2@contoso-mfg.com"  # one person, a target account


def test_the_duplicates_waiting_hand_off_moves_over_with_its_deadline_and_its_owner(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    # Before: the lead kept kept its owner (Ben) while Ana's hand-off waited on it, and Ana's
    # bell lost the alert with the lead merged away.
    signed_in(app, "ana", "ben")
    marketing = bearer(make_key(Role.MARKETING))
    made = client.post("/api/leads", json={"email": LEE, "owner": "ben@flowline.io"},
                       headers=marketing)  # fmt: skip
    assert made.status_code == 201, made.text
    demo_request(client, make_key(Role.INGEST), LEE_2)
    handed = client.get(f"/api/leads/{LEE_2}", headers=marketing).json()["assignment"]
    assert handed["rep"]["email"] == "ana@flowline.io"
    merged = _merge(client, marketing)
    assert merged["owner"] == "ana@flowline.io"
    assert merged["assignment"] == handed  # her rep, team, reason and deadline
    with app.state.sessions() as session:
        assert len(_waiting(session)) == 1
        kept = session.scalars(select(Lead.id)).one()
        alerted = bell(session, "ana@flowline.io")
        assert [(n.event_type, n.lead_id) for n in alerted] == [("lead.sales_ready", kept)]
        [told] = bell(session, "ben@flowline.io")
    assert (told.event_type, told.lead_id) == ("lead.reassigned", kept)
    assert "Now with: ana@flowline.io" in told.body
    assert f"Why: merged with {LEE_2} by test marketing" in told.body


def test_the_lead_kept_keeps_its_own_waiting_hand_off_and_the_duplicates_is_closed(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    # Before: both hand-offs waited on the lead kept, the duplicate's (Ben's, the newer) was
    # the one its page and the queue showed, and both were reminded and escalated.
    signed_in(app, "ana", "ben")
    ingest, marketing = make_key(Role.INGEST), bearer(make_key(Role.MARKETING))
    demo_request(client, ingest, LEE)
    demo_request(client, ingest, LEE_2)
    kept = client.get(f"/api/leads/{LEE}", headers=marketing).json()["assignment"]
    other = client.get(f"/api/leads/{LEE_2}", headers=marketing).json()["assignment"]
    assert (kept["rep"]["email"], other["rep"]["email"]) == ("ana@flowline.io", "ben@flowline.io")
    merged = _merge(client, marketing)
    assert merged["owner"] == "ana@flowline.io" and merged["assignment"] == kept
    later = datetime.now(UTC) + timedelta(hours=1)  # reminded and escalated, not reassigned
    with app.state.sessions() as session, session.begin():
        [waiting] = _waiting(session)
        statuses = {a.rep_id: a.status for a in session.scalars(select(Assignment))}
        [(row, _)] = rep_repo.queue(session, ["sql"], "ana@flowline.io")
        assert row.id == waiting.lead_id
        sla.sweep(session, playbooks.active_playbook(session), later)
    assert statuses == {waiting.rep_id: "open", _rep_id(app, "ben@flowline.io"): "closed"}
    with app.state.sessions() as session:
        rung = [(n.event_type, n.body) for n in bell(session, "ben@flowline.io")]
    assert [kind for kind, _ in rung] == ["lead.sales_ready", "lead.reassigned"]  # no SLA alert
    assert "Now with: ana@flowline.io" in rung[1][1]


def test_a_lead_kept_waiting_in_its_teams_queue_takes_no_owner_from_the_duplicate(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], secret: str
) -> None:
    # Before: the duplicate's rep became the owner while the hand-off kept waiting in the
    # team's queue, where only that owner could accept it.
    signed_in(app, "ana", "ben")
    ingest, marketing = make_key(Role.INGEST), bearer(make_key(Role.MARKETING))
    demo_request(client, ingest, LEE)
    released = client.patch(f"/api/leads/{LEE}", json={"owner": None}, headers=marketing)
    queued = released.json()["assignment"]
    assert queued["rep"] is None and queued["team"] == "enterprise"
    demo_request(client, ingest, LEE_2)
    rep = client.get(f"/api/leads/{LEE_2}", headers=marketing).json()["owner"]
    merged = _merge(client, marketing)
    assert merged["owner"] is None and merged["assignment"] == queued
    with app.state.sessions() as session:
        assert len(_waiting(session)) == 1
        told = [n.body for n in reassigned(session, rep) if LEE_2 in n.body]
    assert told == [f"Now with: the team queue\nWhy: merged with {LEE_2} by test marketing"]


def _merge(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """Fold Lee's second address into the first; the lead kept, as shown."""
    merged = client.post(f"/api/leads/{LEE}/merge", json={"duplicate": LEE_2}, headers=headers)
    assert merged.status_code == 200, merged.text
    shown: dict[str, Any] = merged.json()["lead"]
    return shown


def _waiting(session: Any) -> list[Assignment]:
    """The hand-offs waiting for a first touch."""
    query = select(Assignment).where(
        Assignment.status.in_(["open", "breached"]), Assignment.first_touch_at.is_(None)
    )
    return list(session.scalars(query))


def _rep_id(app: FastAPI, email: str) -> int:
    with app.state.sessions() as session:
        found = rep_repo.get_by_email(session, email)
        assert found is not None
        return found.id
