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

from leadflow.core.playbook import Playbook
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import reps as rep_repo
from leadflow.services import pipeline, playbooks, reporting, reps
from leadflow.services.companies import business_domain, domain_verdict
from leadflow.services.demo_sales import TEAM_DOMAIN, sales_outcomes

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
    ("Nora Patel", "nora", "inbound", "mon-sun 00:00-24:00", "UTC"),
    ("Sam Okafor", "sam", "inbound", "mon-sun 00:00-24:00", "UTC"),
)


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


# The demo's history is played forward two days at a time: leads and events arrive when they
# happened, the pipeline moves stages and hands off at that moment, and sales works the new
# leads over the following week. So velocity, speed to lead and each month's SLA are real
# (a lead waits up to a step before the pipeline sees it: shorter steps cost more to build).
STEP = timedelta(days=2)
SALES_WEEK = timedelta(days=7)
MONTHS = 6
# Anonymous visitors per lead: about 4% of a site's visitors become known leads.
ANONYMOUS_PER_LEAD = 24


def anonymous_visits(
    rng: random.Random, visitors: int, start: datetime, now: datetime, seed: int
) -> list[dict[str, Any]]:
    """Page views of visitors who never said who they are (a few pages each)."""
    span = (now - start).total_seconds()
    rows = []
    for visitor in range(visitors):
        at = start + timedelta(seconds=span * rng.random())
        pages = 1 + int(rng.expovariate(1.5))
        for page in range(pages):
            seen = at + timedelta(minutes=page)
            rows.append({
                "lead_id": None, "anonymous_id": f"anon-{seed}-{visitor}", "source": "demo",
                "message_id": f"demo-{seed}-anon-{visitor}-{page}", "type": "page",
                "name": None, "properties": {"path": rng.choice(PAGES)}, "context": {},
                "occurred_at": seen, "received_at": seen,
            })  # fmt: skip
    return rows


def checkpoints(start: datetime, now: datetime) -> list[datetime]:
    """The moments the demo's history is played at: every week from `start`, then `now`."""
    moments = []
    moment = start + STEP
    while moment < now:
        moments.append(moment)
        moment += STEP
    return [*moments, now]


def build(
    session: Session, playbook_text: str, *, leads: int, now: datetime, seed: int,
    train: bool = True,
) -> Built:  # fmt: skip
    """Install the playbook, then play six months of the demo company forward two days at a
    time (leads, events, the pipeline, sales' work), then (with `train`) learn from its closed
    leads so every open lead shows a chance to buy; the caller commits."""
    start = now - timedelta(days=30 * MONTHS)
    version = playbooks.install(session, playbook_text, author="demo", now=start)
    book = playbooks.playbook_of(version)
    data = generate(book, leads=leads, now=now, seed=seed, months=MONTHS)
    account_repo.upsert_many(session, data.accounts)
    add_sales_team(session, start)
    visits = anonymous_visits(random.Random(seed + 2), leads * ANONYMOUS_PER_LEAD, start, now,
                              seed)  # fmt: skip
    stored = event_repo.insert_many(session, visits)
    domains = account_repo.ids_by_domain(session)
    order = sorted(range(len(data.leads)), key=lambda k: data.leads[k]["created_at"])

    # An event arrives once its lead is known (an unsubscribe may be dated before).
    def arrives(e: dict[str, Any]) -> datetime:
        occurred: datetime = e["occurred_at"]
        created: datetime = data.leads[e["lead_index"]]["created_at"]
        return max(occurred, created)

    timeline = sorted(enumerate(data.events), key=lambda pair: arrives(pair[1]))
    lead_ids: dict[int, int] = {}
    rng, worked, seconds = random.Random(seed + 1), set[tuple[int, str]](), 0.0
    next_lead = next_event = 0
    for moment in checkpoints(start, now):
        arrived = []
        while next_lead < len(order) and data.leads[order[next_lead]]["created_at"] < moment:
            arrived.append(order[next_lead])
            next_lead += 1
        lead_ids.update(_insert_leads(session, data, arrived, domains))
        happened = []
        while next_event < len(timeline) and arrives(timeline[next_event][1]) < moment:
            happened.append(timeline[next_event])
            next_event += 1
        stored += event_repo.insert_many(session, _event_rows(happened, lead_ids, seed))
        touched = {lead_ids[k] for k in arrived} | {lead_ids[e["lead_index"]] for _, e in happened}
        last = moment == now
        result = pipeline.run_bulk(session, book, moment, cause="rescore", actor="demo",
                                   lead_ids=None if last else touched)  # fmt: skip
        seconds += result.seconds
        # Sales keeps up with older weeks; the latest fortnight still has work waiting.
        recent = now - moment < 2 * SALES_WEEK
        sales_outcomes(session, rng, moment, until=min(moment + SALES_WEEK, now), worked=worked,
                       keep_up=not recent)  # fmt: skip
    reporting.fold_tallies(session, at_least=1)  # the company's counts, one row per group
    learned = learn(session, book, now) if train else "not trained"
    return Built(len(data.accounts), len(lead_ids), stored, seconds, learned)


def _insert_leads(
    session: Session, data: DemoData, indexes: list[int], domains: dict[str, int]
) -> dict[int, int]:
    """Write these demo leads; their ids by index into `data.leads`."""
    rows = []
    for k in indexes:
        row = dict(data.leads[k])
        domain = row.pop("account_domain")
        rows.append({**row, "account_id": domains.get(domain) if domain else None})
        # How it met its account, as an import of it would say (`leads show`'s account match).
        verdict = domain_verdict(domain, given=business_domain(row["email"]) != domain)
        rows[-1].update(
            account_confidence=verdict.confidence if verdict else None,
            account_reason=verdict.reason if verdict else None,
        )
    if not rows:
        return {}
    lead_repo.upsert_many(session, rows)
    ids = lead_repo.ids_by_email(session, [row["email"] for row in rows])
    return {k: ids[row["email"]] for k, row in zip(indexes, rows, strict=True)}


def _event_rows(
    happened: list[tuple[int, dict[str, Any]]], lead_ids: dict[int, int], seed: int
) -> list[dict[str, Any]]:
    return [
        {
            "lead_id": lead_ids[e["lead_index"]], "source": "demo",
            "message_id": f"demo-{seed}-{number}", "type": e["type"], "name": e["name"],
            "properties": e["properties"], "context": {}, "occurred_at": e["occurred_at"],
            "received_at": e["occurred_at"],
        }
        for number, e in happened
    ]  # fmt: skip


def learn(session: Session, book: Playbook, now: datetime) -> str:
    """`model train` on the demo's outcomes (a small demo may have too few to learn from):
    the last step of `build`, which the tests also take on their copy of one untrained build."""
    from leadflow.services import model  # the learners load only here

    try:
        trained = model.train(session, book, now)
    except model.ColdStart as why:
        return f"no model: {why}"
    if not trained["served"]:
        return str(trained["decision"])
    return (f"model {trained['version']} ({trained['kind']}, ROC-AUC "
            f"{trained['metrics']['roc_auc']} out of sample): a chance to buy on "
            f"{trained['leads_scored']:,} leads without an outcome")  # fmt: skip
