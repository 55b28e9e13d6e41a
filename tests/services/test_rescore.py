"""`rescore_all` on a real database equals the per-lead path (`services.leads.explain`)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.accounts import score_account
from leadflow.core.facts import lead_facts
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.models import Account, Event, Lead, ScoreEntry
from leadflow.services import importing, pipeline
from leadflow.services import leads as lead_service
from leadflow.services.rescore import rescore_all
from tests.services import account_scenario

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"

ODD_PATHS = """
name: Every way a path is read
custom_fields: [works_remotely, prefs]
account_custom_fields: [segment]
personas:
  - {id: remote, name: Remote, min_match: 0.5, criteria: [
      {field: works_remotely, equals: true}, {field: prefs.chair.budget, gte: 500}]}
tiers:
  - {id: gold, max_accounts: 2, points: 12.5, domains: [acme.com]}
fit:
  rules:
    - {id: senior, label: Senior, points: 20, when: {field: title, regex: "(?i)head|vp"}}
    - {id: free_mail, label: Free mail, points: -15, when: {field: email_domain, in: [gmail.com]}}
    - {id: size, label: Size, points: 17.5,
       distance: {field: account.employees, ideal: [50, 200], zero_at: 1, scale: log10}}
    - {id: segment, label: Segment, points: 4, when: {field: account.segment, equals: mid}}
    - {id: gold, label: Gold, points: 1, when: {field: account.tier, exists: true}}
    - {id: budget, label: Budget, points: 7.25, when: {field: prefs.chair.budget, gte: 500}}
    - {id: remote, label: Remote, points: 3, when: {field: works_remotely, equals: true}}
engagement:
  half_life_days: 20
  rules:
    - {id: pricing, label: Pricing, points: 5, cap: 12,
       event: {type: page, where: {field: properties.path, regex: "^/pricing"}}}
    - {id: trial, label: Trial flag, points: 9, decay: false,
       event: {type: track, where: {field: properties.trial, equals: true}}}
    - {id: plan, label: Plan, points: 2.5, cap: 6,
       event: {where: {field: properties.plan.tier, in: [enterprise, 3]}}}
    - {id: mobile, label: Mobile, points: 1.25, half_life_days: 3,
       event: {where: {field: context.device.type, equals: mobile}}}
    - {id: burst, label: Burst, points: 5, window: {count: 2, days: 3}, event: {type: page}}
    - {id: unsubscribed, label: Unsubscribed, points: -20, decay: false, cap: 20,
       event: {type: track, name: Unsubscribed}}
account_scoring: {engaged_min_engagement: 5, engagement_cap: 40}
"""

DOMAINS = ["acme.com", "northwind-logistics.com", "globex.io", "gmail.com", "mit.edu"]
TITLES = [None, "Head of Operations", "VP Sales", "IT Manager", "Founder", "Engineer"]
PATHS = [None, "/pricing", "/pricing/plans", "/customers/x", "/careers", "/"]
LONG_S = "\u017f"  # casefolds to "s": the core counts "Un\u017fubscribed" as "unsubscribed"
NAMES = ["Demo Requested", "UNSUBSCRIBED", f"Un{LONG_S}ubscribed", "Email Clicked", None]
TYPES = ["page", "Page", "PAGE", "track", "Track", "identify", "pagé"]


def populate(session: Session, seed: int, leads: int = 40, events: int = 500) -> None:
    """Leads with and without accounts, attributes that stand in for NULL columns, events."""
    rng = random.Random(seed)
    accounts = [
        Account(
            domain=domain,
            name=domain,
            industry=rng.choice([None, "Software", "Retail"]),
            employees=rng.choice([None, 5, 80, 150, 900, 20000]),
            attributes={"segment": rng.choice(["mid", "smb", 3])},
        )
        for domain in DOMAINS[:3]
    ]
    session.add_all(accounts)
    session.flush()
    for i in range(leads):
        domain = rng.choice(DOMAINS)
        attributes: dict[str, Any] = {
            "works_remotely": rng.choice([True, False, 1]),
            "prefs": {"chair": {"budget": rng.choice([100, 600, "900"])}},
        }
        if rng.random() < 0.3:
            attributes["title"] = "Head of Remote Ops"  # read only when the title is NULL
        email: str | None = f"p{i}@{domain}"
        if rng.random() < 0.1:
            attributes["email"], email = email, None
        account = next((a for a in accounts if a.domain == domain), None)
        session.add(
            Lead(
                email=email,
                title=rng.choice(TITLES),
                country=rng.choice(["US", None]),
                attributes=attributes,
                account_id=account.id if account else None,
                total=rng.choice([0.0, 12.5]),
            )
        )
    session.flush()
    ids = list(session.scalars(select(Lead.id)))
    for k in range(events):
        kind = rng.choice(TYPES)
        properties: dict[str, Any] = {}
        if (path := rng.choice(PATHS)) is not None:
            properties["path"] = path
        if rng.random() < 0.3:
            properties["trial"] = rng.choice([True, 1, "true"])
        if rng.random() < 0.3:
            properties["plan"] = rng.choice([{"tier": "Enterprise"}, {"tier": 3}, "basic"])
        session.add(
            Event(
                lead_id=rng.choice([*ids, None]),
                message_id=f"m{k}",
                type=kind,
                name=rng.choice(NAMES) if kind.lower() == "track" else None,
                properties=properties,
                context={"device": {"type": rng.choice(["mobile", "desktop"])}},
                occurred_at=NOW - timedelta(days=rng.uniform(-1, 60)),
            )
        )
    session.flush()


def stored(lead: Lead) -> tuple[Any, ...]:
    parts = [(c["rule"], c["label"], c["kind"], c["points"]) for c in lead.contributions]
    return (lead.fit, lead.engagement, lead.total, lead.grade, lead.persona, parts)


def explained(session: Session, lead: Lead, book: Playbook) -> tuple[Any, ...]:
    score = lead_service.explain(session, lead, book, NOW)
    parts = [(c.rule, c.label, c.kind, c.points) for c in score.contributions]
    persona = score.persona.id if score.persona else None
    return (score.fit, score.engagement, score.total, score.grade, persona, parts)


@pytest.mark.parametrize("text", [B2B.read_text(), ODD_PATHS], ids=["b2b", "odd_paths"])
def test_rescore_equals_explain(session: Session, text: str) -> None:
    book = parse_playbook(text)
    populate(session, seed=3)
    before = {lead.id: lead.total for lead in session.scalars(select(Lead))}

    result = rescore_all(session, book, NOW)
    session.expire_all()

    leads = list(session.scalars(select(Lead).order_by(Lead.id)))
    assert result.leads == len(leads) and result.events == _attributed(session)
    for lead in leads:
        assert stored(lead) == explained(session, lead, book), lead.id
        assert lead.scored_at == NOW
    ledger = {e.lead_id: e for e in session.scalars(select(ScoreEntry))}
    assert set(ledger) == {lead.id for lead in leads if lead.total != before[lead.id]}
    for lead_id, entry in ledger.items():
        assert entry.cause == "rescore" and entry.at == NOW
        assert entry.delta_total == round(entry.total - before[lead_id], 2)


def _attributed(session: Session) -> int:
    return len(session.scalars(select(Event.id).where(Event.lead_id.is_not(None))).all())


def test_accounts_follow_score_account(session: Session) -> None:
    book = parse_playbook(ODD_PATHS)
    populate(session, seed=4)
    rescore_all(session, book, NOW)
    session.expire_all()
    for account in session.scalars(select(Account)):
        tier = book.tier_of(account.domain)
        facts = lead_facts({}, lead_service.account_dict(account), tier.id if tier else None)
        members = session.scalars(select(Lead.engagement).where(Lead.account_id == account.id))
        expected = score_account(book, facts["account"], list(members))
        got = (account.fit, account.engagement, account.total, account.engaged_leads, account.tier)
        want = (expected.fit, expected.engagement, expected.total, expected.engaged_leads)
        assert got == (*want, tier.id if tier else None), account.domain


def test_some_leads_only(session: Session) -> None:
    book = parse_playbook(ODD_PATHS)
    populate(session, seed=6)
    ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))[::3]

    result = rescore_all(session, book, NOW, lead_ids=ids)
    session.expire_all()

    assert result.leads == len(ids)
    for lead in session.scalars(select(Lead)):
        if lead.id in ids:
            assert stored(lead) == explained(session, lead, book)
        else:
            assert lead.scored_at is None
    again = rescore_all(session, book, NOW, lead_ids=ids)
    assert again.changed == 0  # same moment, same totals: nothing new in the ledger


def test_an_import_that_moves_a_lead_rescores_the_account_it_left(session: Session) -> None:
    """Ann (30 points) at acme, imported again with globex's domain: acme no longer counts
    her, as a full re-score and the next live event there find."""
    book = account_scenario.installed(session)
    at = account_scenario.T0
    for k in range(3):
        account_scenario.page(session, book, "ann@acme.com", f"p{k}", at)
    account_scenario.page(session, book, "bob@acme.com", "b1", at)
    domains = ["acme.com", "globex.io"]
    row = {"email": "ann@acme.com", "domain": "globex.io", "company": "Globex"}

    report = importing.import_leads(session, [(2, row)], skip_invalid=False, now=at)
    pipeline.run_import(session, book, report, at, actor="import")

    account_scenario.agrees_now_and_after_bobs_next_page(
        session, book, domains, at, {"acme.com": (0, 10, 10, 1), "globex.io": (0, 30, 30, 1)}
    )
