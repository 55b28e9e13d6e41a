"""Erasure keeps the reports adding up; retention anonymizes old events; the audit log
refuses to be changed (both engines)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.playbook import Playbook, Retention
from leadflow.core.report_math import Cohort
from leadflow.models import AuditEntry, Event, Lead
from leadflow.repositories import events as event_repo
from leadflow.services import audit, privacy, reports
from tests.services import account_scenario
from tests.services.rescored import as_rescored
from tests.services.test_reports import NOW, day, playbook, session

__all__ = ["playbook", "session"]
BREAKDOWNS = ("source", "campaign", "persona", "grade", "score_band", "period")


def _figures(db: Session, book: Playbook, cohort: Cohort) -> dict[str, object]:
    options = reports.Options()
    found: dict[str, object] = {}
    funnel = reports.run(db, book, "funnel", cohort, options, NOW)
    found["funnel"] = (funnel["rows"], funnel["by_period"], funnel["revenue"])
    for by in BREAKDOWNS:
        rows = reports.run(db, book, "conversion", cohort, reports.Options(by=by), NOW)["rows"]
        found[by] = sorted(rows, key=lambda r: str(r[by]))
    return found


@pytest.mark.parametrize("erased", [("a@x.io",), ("a@x.io", "b@x.io", "e@x.io")])
def test_reports_add_up_after_erasure(
    session: Session, playbook: Playbook, erased: tuple[str, ...]
) -> None:
    cohorts = [Cohort(), Cohort(since=day(9, 1), until=day(10, 1)), Cohort(source="google")]
    before = [_figures(session, playbook, c) for c in cohorts]
    for email in erased:
        privacy.erase(session, email, actor="dpo", now=NOW)
    assert session.scalar(select(func.count()).where(Lead.email.in_(erased))) == 0
    assert [_figures(session, playbook, c) for c in cohorts] == before


def test_retention_anonymizes_old_events_and_keeps_their_count(
    session: Session, playbook: Playbook
) -> None:
    lead = session.scalar(select(Lead).where(Lead.email == "c@x.io"))
    assert lead is not None
    old, recent = NOW - timedelta(days=800), NOW - timedelta(days=10)
    rows = [
        {"lead_id": lead.id, "anonymous_id": "anon-old-visit", "source": "web",
         "message_id": f"r{k}", "type": "page", "name": None,
         "properties": {"path": "/pricing", "url": "https://x.io/pricing?email=c@x.io"},
         "context": {"ip": "203.0.113.9", "page": {"title": "Pricing"}},
         "occurred_at": moment, "received_at": moment}
        for k, moment in enumerate((old, old, recent))
    ]  # fmt: skip
    event_repo.insert_new(session, rows)
    total = session.scalar(select(func.count()).select_from(Event))
    assert privacy.apply_retention(session, playbook, NOW) == 0  # no retention set: nothing
    kept = playbook.model_copy(update={"retention": Retention(events_days=730)})
    anonymized = privacy.apply_retention(session, kept, NOW)
    assert anonymized >= 2
    assert session.scalar(select(func.count()).select_from(Event)) == total
    stripped = session.scalars(select(Event).where(Event.message_id.in_(["r0", "r1"]))).all()
    for event in stripped:
        assert (event.lead_id, event.anonymous_id, event.properties, event.context) == (
            None, None, {}, {},
        )  # fmt: skip
        assert (event.type, event.path) == ("page", "/pricing")  # what reports count stays
    fresh = session.scalar(select(Event).where(Event.message_id == "r2"))
    assert fresh is not None and fresh.lead_id == lead.id and fresh.context["ip"]
    assert privacy.apply_retention(session, kept, NOW) == 0  # nothing left to strip


def test_the_audit_log_refuses_update_and_delete(session: Session) -> None:
    entry = audit.record(session, actor="ana", action="key.revoke", target="key:1", now=NOW)
    session.flush()
    for statement in (
        update(AuditEntry).where(AuditEntry.id == entry.id).values(actor="mallory"),
        text("DELETE FROM audit_log"),
    ):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(statement)
        nested.rollback()
    assert session.scalar(select(AuditEntry.actor).where(AuditEntry.id == entry.id)) == "ana"


def test_audit_details_never_hold_secrets(session: Session) -> None:
    details = {
        "secret": "whsec_abc", "password": "hunter2hunter2", "url": "slack://T0/B0/XyZsecret",
        "hook": "https://hooks.example.com/services/T0/tok3n?key=k", "nested": {"api_key": "lf_x"},
        "channels": ["mailto://user:pa55@smtp.example.com"],
    }  # fmt: skip
    entry = audit.record(session, actor="ana", action="rep.add", target="rep:1", details=details,
                         now=NOW)  # fmt: skip
    shown = str(entry.details)
    for secret in ("whsec_abc", "hunter2", "XyZsecret", "tok3n", "lf_x", "pa55", "T0"):
        assert secret not in shown
    assert entry.details["hook"] == "https://hooks.example.com/[redacted]"


def test_erasure_takes_the_person_out_of_their_account(sessions: sessionmaker[Session]) -> None:
    """Ann (20 points) and Bob (10) at acme: once Ann is erased acme is scored as a full
    re-score scores it, and so it stays when Bob's next event is counted live."""
    with sessions() as session, session.begin():
        book = account_scenario.installed(session)
        for message_id, email in (("a1", "ann@acme.com"), ("a2", "ann@acme.com"),
                                  ("b1", "bob@acme.com")):  # fmt: skip
            account_scenario.page(session, book, email, message_id, account_scenario.T0)
        assert account_scenario.figures(session, ["acme.com"])["acme.com"] == (0, 30, 30, 2)

        privacy.erase(session, "ann@acme.com", actor="dpo", now=account_scenario.T0)

        account_scenario.agrees_now_and_after_bobs_next_page(
            session, book, ["acme.com"], account_scenario.T0, {"acme.com": (0, 10, 10, 1)}
        )


def _score(session: Session, email: str) -> tuple[object, ...]:
    session.flush()
    session.expire_all()
    lead = session.scalars(select(Lead).where(Lead.email == email)).one()
    parts = [(c["rule"], c["label"], c["kind"], c["points"]) for c in lead.contributions]
    return lead.engagement, lead.total, lead.grade, lead.stage, parts


def _rescored(session: Session, book: Playbook, email: str, at: datetime) -> tuple[object, ...]:
    return as_rescored(session, book, at, lambda s: _score(s, email))


def test_events_retention_anonymizes_no_longer_score_for_their_lead(
    sessions: sessionmaker[Session],
) -> None:
    """Bob's page of two years ago and one of today, scored live (10 points each, no decay):
    once retention strips the old one of who sent it, Bob scores as a re-score scores him,
    and so he still does when his next page is counted live."""
    with sessions() as session, session.begin():
        book = account_scenario.installed(session)
        at = account_scenario.T0
        account_scenario.page(session, book, "bob@acme.com", "b0", at - timedelta(days=800))
        account_scenario.page(session, book, "bob@acme.com", "b1", at)
        assert _score(session, "bob@acme.com")[:2] == (20, 20)
        kept = book.model_copy(update={"retention": Retention(events_days=730)})

        assert privacy.apply_retention(session, kept, at) == 1

        assert _score(session, "bob@acme.com")[:2] == (10, 10)
        assert _score(session, "bob@acme.com") == _rescored(session, kept, "bob@acme.com", at)
        later = at + timedelta(minutes=1)
        account_scenario.page(session, book, "bob@acme.com", "b2", later)
        assert _score(session, "bob@acme.com")[:2] == (20, 20)
        assert _score(session, "bob@acme.com") == _rescored(session, kept, "bob@acme.com", later)
