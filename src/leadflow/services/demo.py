"""A realistic demo company: accounts in tiers, leads, six months of events, hidden propensity.

Every lead gets a hidden propensity to buy from its fit (title, company size, industry,
region) plus noise; engaged leads behave like buyers (pricing, case studies, demo requests)
in proportion to it. Scores computed by the playbook therefore mean something, and later
the closed loop can check how well they predict.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy.orm import Session

from leadflow.core.lifecycle import Action
from leadflow.core.playbook import Playbook
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import reps as rep_repo
from leadflow.services import lifecycle, pipeline, playbooks, reps, sales

INDUSTRIES = ["Software", "Logistics", "Manufacturing", "Retail", "Healthcare", "Finance"]
COUNTRIES = ["US", "US", "US", "CA", "GB", "DE", "FR", "NL", "SE", "IN", "BR", "AU"]
SENIOR = ["VP Operations", "Head of Operations", "Director of Operations", "COO", "Founder"]
MIDDLE = ["Operations Manager", "IT Manager", "Systems Engineer", "Engineering Manager"]
JUNIOR = ["Operations Analyst", "Coordinator", "Intern", "Student", "Marketing Associate"]
SOURCES = [
    ("google", "cpc", "ops-automation-search"),
    ("linkedin", "paid-social", "ops-leaders-q3"),
    ("newsletter", "email", "monthly-digest"),
    ("webinar", "event", "scaling-ops-webinar"),
    ("organic", "seo", None),
    ("partner", "referral", "partner-program"),
]
PAGES = ["/", "/product", "/blog/automation-101", "/blog/ops-metrics", "/integrations", "/about"]
BUYER_PAGES = ["/pricing", "/customers/northwind", "/customers/contoso", "/security"]
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com"]


@dataclass
class DemoData:
    """Rows ready for bulk insert."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _company_domains(playbook: Playbook) -> list[tuple[str, str | None]]:
    return [(d, t.id) for t in playbook.tiers for d in t.domains]


def _accounts(
    fake: Faker, rng: random.Random, playbook: Playbook, count: int, now: datetime
) -> list[dict[str, Any]]:
    named = _company_domains(playbook)
    rows = []
    for index in range(count):
        if index < len(named):
            domain, tier = named[index]
            name = domain.split(".")[0].replace("-", " ").title()
        else:
            name = fake.unique.company()
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or f"co{index}"
            domain, tier = f"{slug}{index}.com", None
        employees = int(math.exp(rng.gauss(math.log(180 if tier else 90), 1.2))) + 1
        rows.append(
            {
                "domain": domain,
                "name": name,
                "industry": rng.choice(INDUSTRIES[:3] if tier else INDUSTRIES),
                "employees": employees,
                "annual_revenue": float(employees * rng.randint(80_000, 250_000)),
                "country": rng.choice(COUNTRIES),
                "attributes": {},
                "tier": tier,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _propensity(rng: random.Random, title: str, account: dict[str, Any], free_mail: bool) -> float:
    score = -2.4
    score += 1.6 if title in SENIOR else 0.6 if title in MIDDLE else -1.2
    score += 0.9 if 50 <= account["employees"] <= 400 else -0.3
    score += 0.8 if account["industry"] in INDUSTRIES[:3] else -0.4
    score += 0.7 if account["tier"] else 0.0
    score -= 1.0 if free_mail else 0.0
    return 1 / (1 + math.exp(-(score + rng.gauss(0, 0.7))))


def _events_for(
    rng: random.Random, lead_index: int, propensity: float, start: datetime, now: datetime
) -> list[dict[str, Any]]:
    span = (now - start).total_seconds()
    visits = max(1, int(rng.expovariate(1 / (3 + 25 * propensity))))
    events = []
    for visit in range(visits):
        at = start + timedelta(seconds=span * rng.random() ** (1 - 0.6 * propensity))
        pages = [rng.choice(PAGES)]
        if rng.random() < propensity:
            pages.append(rng.choice(BUYER_PAGES))
        if rng.random() < 0.05:
            pages.append("/careers")
        for offset, path in enumerate(pages):
            events.append(
                _event(lead_index, "page", None, at + timedelta(minutes=offset), path=path)
            )
        if rng.random() < 0.15:
            events.append(
                _event(lead_index, "track", "Email Clicked", at, campaign="monthly-digest")
            )
        if rng.random() < 0.08 + 0.3 * propensity:
            events.append(
                _event(lead_index, "track", "Content Downloaded", at, asset="ops-playbook.pdf")
            )
        if rng.random() < 0.04 * propensity:
            events.append(_event(lead_index, "track", "Webinar Attended", at))
        if visit == visits - 1 and rng.random() < 0.25 * propensity**2:
            events.append(_event(lead_index, "track", "Demo Requested", at + timedelta(minutes=5)))
    if rng.random() < 0.03:
        events.append(
            _event(lead_index, "track", "Unsubscribed", now - timedelta(days=rng.randint(1, 90)))
        )
    return events


def _event(
    lead_index: int, kind: str, name: str | None, at: datetime, **properties: Any
) -> dict[str, Any]:
    return {
        "lead_index": lead_index,
        "type": kind,
        "name": name,
        "occurred_at": at,
        "properties": properties,
    }


def generate(
    playbook: Playbook, *, leads: int, now: datetime, seed: int = 7, months: int = 6
) -> DemoData:
    """Build the demo company's rows; `lead_index` in events points into `leads`."""
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    data = DemoData()
    data.accounts = _accounts(fake, rng, playbook, max(20, leads // 8), now)
    start = now - timedelta(days=30 * months)
    for index in range(leads):
        account = data.accounts[
            min(int(rng.paretovariate(1.2)) - 1, len(data.accounts) - 1)
            if rng.random() < 0.3
            else rng.randrange(len(data.accounts))
        ]
        first, last = fake.first_name(), fake.last_name()
        free_mail = rng.random() < 0.12
        domain = rng.choice(FREE_MAIL) if free_mail else account["domain"]
        title = rng.choice(
            SENIOR if rng.random() < 0.2 else MIDDLE if rng.random() < 0.5 else JUNIOR
        )
        source, medium, campaign = rng.choice(SOURCES)
        propensity = _propensity(rng, title, account, free_mail)
        data.leads.append(
            {
                "email": f"{first}.{last}.{index}@{domain}".lower(),
                "first_name": first,
                "last_name": last,
                "title": title,
                "country": account["country"],
                "source": source,
                "medium": medium,
                "campaign": campaign,
                "attributes": {"hidden_propensity": round(propensity, 4)},
                "account_domain": None if free_mail else account["domain"],
                "created_at": start
                + timedelta(seconds=(now - start).total_seconds() * rng.random() * 0.8),
                "updated_at": now,
            }
        )
        created = data.leads[-1]["created_at"]
        data.events.extend(_events_for(rng, index, propensity, created, now))
    return data


@dataclass
class Built:
    """What the demo wrote."""

    accounts: int
    leads: int
    events: int
    score_seconds: float
    model: str = ""  # what `model train` did: the kind served, or why none is


# The demo's sales team (fictional people): teams named by the example playbook's routing.
SALES_TEAM = (
    ("Maya Lindqvist", "maya", "managers", "mon-fri 08:00-18:00", "Europe/Stockholm"),
    ("Jonas Berg", "jonas", "enterprise", "mon-fri 08:00-18:00", "Europe/Berlin"),
    ("Ava Chen", "ava", "enterprise", "mon-fri 09:00-17:00", "America/New_York"),
    ("Leo Martins", "leo", "smb", "mon-fri 09:00-17:00", "America/Sao_Paulo"),
    ("Nora Patel", "nora", "inbound", "mon-sun 00:00-23:59", "UTC"),
    ("Sam Okafor", "sam", "inbound", "mon-sun 00:00-23:59", "UTC"),
)
TEAM_DOMAIN = "flowline.example"


def add_sales_team(session: Session, now: datetime) -> None:
    """Reps on the teams the example routing names, so hand-off works on the demo data."""
    for name, user, team, hours, zone in SALES_TEAM:
        email = f"{user}@{TEAM_DOMAIN}"
        if rep_repo.get_by_email(session, email) is None:
            fields: dict[str, Any] = {"name": name, "email": email, "team": team}
            fields["working_hours"] = hours
            manager = None if team == "managers" else f"maya@{TEAM_DOMAIN}"
            fields.update(timezone=zone, manager_email=manager, capacity=40)
            reps.add_rep(session, fields, now=now)


def build(
    session: Session, playbook_text: str, *, leads: int, now: datetime, seed: int,
    train: bool = True,
) -> Built:  # fmt: skip
    """Install the playbook, write the demo company and score it, then (with `train`) learn
    from its closed leads so every open lead shows a chance to buy; the caller commits."""
    version = playbooks.install(session, playbook_text, author="demo", now=now)
    book = playbooks.playbook_of(version)
    data = generate(book, leads=leads, now=now, seed=seed)
    account_repo.upsert_many(session, data.accounts)
    domains = account_repo.ids_by_domain(session)
    lead_rows = []
    for row in data.leads:
        domain = row.pop("account_domain")
        lead_rows.append({**row, "account_id": domains.get(domain) if domain else None})
    lead_repo.upsert_many(session, lead_rows)
    ids = lead_repo.ids_by_email(session, [row["email"] for row in lead_rows])
    lead_ids = [ids[row["email"]] for row in lead_rows]
    event_rows = [
        {
            "lead_id": lead_ids[e["lead_index"]],
            "source": "demo",
            "message_id": f"demo-{seed}-{number}",
            "type": e["type"],
            "name": e["name"],
            "properties": e["properties"],
            "context": {},
            "occurred_at": e["occurred_at"],
            "received_at": e["occurred_at"],
        }
        for number, e in enumerate(data.events)
    ]
    events = event_repo.insert_many(session, event_rows)
    add_sales_team(session, now)
    result = pipeline.run_bulk(session, book, now, cause="rescore", actor="demo")
    sales_outcomes(session, random.Random(seed + 1), now)
    learned = _train(session, book, now) if train else "not trained"
    return Built(len(data.accounts), len(lead_rows), events, result.seconds, learned)


def _train(session: Session, book: Playbook, now: datetime) -> str:
    """`model train` on the demo's outcomes (a small demo may have too few to learn from)."""
    from leadflow.services import model  # the learners load only here

    try:
        trained = model.train(session, book, now)
    except model.ColdStart as why:
        return f"no model: {why}"
    if not trained["served"]:
        return str(trained["decision"])
    return (f"model {trained['version']} ({trained['kind']}, ROC-AUC "
            f"{trained['metrics']['roc_auc']} out of sample): a chance to buy on "
            f"{trained['leads_scored']:,} open leads")  # fmt: skip


RECYCLE_REASONS = ("no budget this year", "bad timing", "no authority", "just researching")
LOST_REASONS = ("chose a competitor", "price", "no decision")
QUESTIONS = ("Do you support SSO?", "How long is onboarding?", "Is there an API?")
OBJECTIONS = ("price", "switching cost", "security review")


def sales_outcomes(session: Session, rng: random.Random, now: datetime) -> None:
    """Sales works most of the demo's SQLs and MQLs and, as an SDR team calling through a list,
    four in ten of the other leads, through the real actions: touches with questions, recycles,
    disqualifications, won and lost deals. Whether a lead buys is a coin weighted by its
    hidden propensity (kept in its attributes to check what a model learns, never used as a
    feature), not the playbook's score: the closed loop then has something true to find."""
    share = {"sql": 0.7, "mql": 0.7, "lead": 0.4}  # the rest waits: the queue has work in it
    worked = [
        lead for stage, part in share.items() for lead in lead_repo.in_stage(session, stage)
        if rng.random() < part
    ]  # fmt: skip
    for lead in worked:
        chance = float((lead.attributes or {}).get("hidden_propensity", 0.2))
        rep = lead.owner or f"nora@{TEAM_DOMAIN}"
        if lead.stage != "sql":
            lifecycle.act(session, lead, Action.ACCEPT, actor=rep, now=now, reason="")
        if rng.random() < 0.85:
            asked, objected = [rng.choice(QUESTIONS)], [rng.choice(OBJECTIONS)]
            sales.log_touch(session, lead, actor=rep, channel="call", now=now,
                            questions=asked, objections=objected)  # fmt: skip
        if rng.random() < 0.1:
            lifecycle.act(session, lead, Action.RECYCLE, actor=rep, now=now,
                          reason=rng.choice(RECYCLE_REASONS))  # fmt: skip
            continue
        buys = rng.random() < chance
        if buys or rng.random() < 0.3:
            amount = round(rng.lognormvariate(9.6, 0.5), -2)
            lifecycle.act(session, lead, Action.CONVERT, actor=rep, now=now, reason="",
                          amount=amount)  # fmt: skip
            action = Action.CLOSE_WON if buys else Action.CLOSE_LOST
            lifecycle.act(session, lead, action, actor=rep, now=now, amount=amount,
                          reason="" if buys else rng.choice(LOST_REASONS))  # fmt: skip
        else:
            lifecycle.act(session, lead, Action.DISQUALIFY, actor=rep, now=now,
                          reason=rng.choice(("not a fit", "no budget", "student")))  # fmt: skip
