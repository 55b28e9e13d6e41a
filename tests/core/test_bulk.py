"""Bulk scoring equals the per-lead core exactly: scores, grades, personas and contributions."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.accounts import score_account
from leadflow.core.bulk import (
    Coded,
    Encoder,
    EventColumns,
    LeadColumns,
    epoch_micros,
    event_paths,
    fact_paths,
    from_micros,
    round_points,
    score_accounts,
    score_bands,
    score_leads,
)
from leadflow.core.bulk_columns import FactTable
from leadflow.core.bulk_math import group_sums, row_sums
from leadflow.core.conditions import Condition, lookup
from leadflow.core.facts import EventFacts, lead_facts
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import points_sum, score_band, score_from_events

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

WINDOWS = """
name: Windows, no global decay, odd points
custom_fields: [works_remotely, chair_budget]
personas:
  - {id: manager_us, name: A, min_match: 0.5, criteria: [
      {field: title, regex: "(?i)manager"}, {field: country, in: [US]}]}
  - {id: manager_mid, name: B, min_match: 0.5, criteria: [
      {field: title, regex: "(?i)manager"}, {field: account.employees, range: [10, 500]}]}
  - {id: remote, name: C, min_match: 0.6, criteria: [
      {field: works_remotely, equals: true}, {field: chair_budget, gte: 500},
      {field: email_domain, exists: true}]}
tiers:
  - {id: gold, max_accounts: 3, points: 7.5, domains: [acme.com, globex.io]}
  - {id: nothing, max_accounts: 2, points: 0, domains: [initech.com]}
fit:
  rules:
    - {id: odd, label: Odd points, points: 2.345, when: {field: country, in: [US, DE]}}
    - {id: third, label: A third, points: 0.333, when: {field: works_remotely, equals: true}}
    - {id: budget, label: Budget, points: 12.5,
       distance: {field: chair_budget, ideal: [500, 1500], zero_at: 300}}
    - {id: size, label: Size, points: 17,
       distance: {field: account.employees, ideal: [50, 200], zero_at: 0.7, scale: log10}}
    - {id: no_industry, label: No industry, points: -3.3,
       when: {not: {field: account.industry, exists: true}}}
    - {id: mixed, label: Mixed, points: 6, when: {any: [
        {field: title, regex: "(?i)ceo"},
        {all: [{field: country, equals: us}, {field: account.employees, gt: 100}]}]}}
engagement:
  rules:
    - {id: three_visits, label: Three visits, points: 10, window: {count: 3, days: 2.5},
       event: {type: page}}
    - {id: any_track, label: Any track, points: 4.444, window: {count: 1, days: 7},
       event: {type: track}}
    - {id: crumbs, label: Crumbs, points: 0.005, event: {type: page}}
    - {id: tenth, label: Tenths, points: 0.1, cap: 0.35,
       event: {type: page, where: {field: properties.path, regex: "^/(pricing|customers)"}}}
    - {id: unsubscribed, label: Unsubscribed, points: -7.77, cap: 20,
       event: {type: track, name: Unsubscribed}}
    - {id: fading, label: Fading, points: 3.3, half_life_days: 0.75, cap: 9.99,
       event: {type: track}}
grade:
  fit: {A: 20, B: 10, C: 2.35}
  engagement: {1: 12, 2: 4.44, 3: 0.01}
"""

DECAY = """
name: Decay, nested where, negative caps
personas:
  - {id: big, name: Big, min_match: 1, criteria: [{field: account.employees, gte: 1000}]}
  - {id: any_title, name: Titled, criteria: [{field: title, exists: true}]}
tiers:
  - {id: top, max_accounts: 2, points: 20, domains: [acme.com, contoso-mfg.com]}
fit:
  rules:
    - {id: linear, label: Linear size, points: 9.99,
       distance: {field: account.employees, ideal: [100, 100], zero_at: 450}}
    - {id: revenue, label: Revenue, points: 5, when: {field: account.annual_revenue, gte: 1e6}}
engagement:
  half_life_days: 10.5
  rules:
    - {id: pricing, label: Pricing, points: 7, cap: 30,
       event: {type: page, where: {field: properties.path, regex: "^/pricing"}}}
    - {id: trial_flag, label: Trial flag, points: 11,
       event: {type: track, where: {field: properties.trial, equals: true}}}
    - {id: plan, label: Enterprise plan, points: 2.5, cap: 6,
       event: {where: {field: properties.plan.tier, in: [enterprise, 3]}}}
    - {id: mobile, label: From mobile, points: 1.25, half_life_days: 3,
       event: {where: {field: context.device.type, equals: mobile}}}
    - {id: careers, label: Careers, points: -4, cap: 10,
       event: {type: [page, screen], where: {field: properties.path, regex: "^/careers"}}}
    - {id: never_fades, label: Never fades, points: -1.5, decay: false, cap: 4,
       event: {type: track, name: [Unsubscribed, email bounced]}}
    - {id: burst, label: Burst, points: 5, window: {count: 2, days: 0.5},
       event: {type: page, where: {field: properties.path, exists: true}}}
grade:
  fit: {A: 30, B: 20, C: 10}
  engagement: {1: 40, 2: 20, 3: 5}
"""

TITLES = [
    "VP Operations", "Head of Ops", "Director of IT", "IT Manager", "Operations Manager",
    "Founder & CEO", "CEO", "Engineer", "coo", "Chief Operating Officer", None, "",
    "Marketing Manager", "Sales Director", "Systems Engineer", "Owner",
]  # fmt: skip
COUNTRIES = ["US", "us", "DE", "BR", "IN", None, "GB", "CA"]
DOMAINS = [
    "acme.com", "globex.io", "initech.com", "contoso-mfg.com", "fabrikam.io", "litware.io",
    "gmail.com", "yahoo.com", "mit.edu", "ox.ac.uk", "zapflow.com", "example.org",
    "alpine-works.com",
]  # fmt: skip
INDUSTRIES = ["Software", "software", "Logistics", "Retail", None, "Manufacturing"]
EMPLOYEES = [None, 0, 1, 10, 49, 50, 120, 200, 201, 1000, 5000, 20000, "1,200", "many", -5, 75.5]
WORKS_REMOTELY = [True, False, 1, "yes", None, 1.0]
BUDGETS = [None, 100, 250, 499, 500, 799.99, 1500, 1650, 1800, 2000, "900"]
PATHS = [None, "/pricing", "/pricing/x", "/customers/acme", "/careers", "/", "/chairs/a1"]
TRACKS = [
    "Content Downloaded", "whitepaper downloaded", "Webinar Attended", "Email Clicked",
    "Form Submitted", "Trial Started", "Demo Requested", "Unsubscribed", "Email Bounced",
    "Email Opened", "Quiz Completed", "Product Added", "Fitting Booked", None,
]  # fmt: skip


def objects(values: Sequence[Any]) -> np.ndarray:
    """An object array holding exactly these values (lists and dicts stay whole)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


def make_lead(rng: random.Random, i: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    domain = rng.choice(DOMAINS)
    attributes: dict[str, Any] = {}
    if rng.random() < 0.7:
        attributes["works_remotely"] = rng.choice(WORKS_REMOTELY)
    if rng.random() < 0.7:
        attributes["chair_budget"] = rng.choice(BUDGETS)
    if rng.random() < 0.5:
        attributes["back_pain"] = rng.choice([True, False, "true"])
    if rng.random() < 0.5:
        attributes["interests"] = rng.choice(["Gaming, hiking", "reading", ["gaming"], None])
    if rng.random() < 0.1:
        attributes["title"] = "Head of Operations"  # shadowed unless the title is missing
    lead = {
        "email": f"person{i}@{domain}" if rng.random() < 0.95 else None,
        "title": rng.choice(TITLES),
        "country": rng.choice(COUNTRIES),
        "attributes": attributes,
    }
    if rng.random() < 0.2:
        return lead, None
    account = {
        "domain": domain,
        "industry": rng.choice(INDUSTRIES),
        "employees": rng.choice(EMPLOYEES),
        "annual_revenue": rng.choice([None, 5e5, 1e6, 2.5e7]),
        "attributes": {"segment": rng.choice(["smb", "mid"])},
    }
    return lead, account


def make_event(rng: random.Random, i: int) -> EventFacts:
    kind = rng.choice(["page", "page", "page", "track", "track", "screen", "identify"])
    properties: dict[str, Any] = {}
    path = rng.choice(PATHS)
    if path is not None:
        properties["path"] = path
    if rng.random() < 0.2:
        properties["trial"] = rng.choice([True, 1, "true", False, 1.0])
    if rng.random() < 0.2:
        properties["plan"] = rng.choice([{"tier": "Enterprise"}, {"tier": 3}, {"tier": 3.0}, "x"])
    context = {"device": {"type": rng.choice(["mobile", "Mobile", "desktop"])}}
    age = timedelta(days=rng.uniform(-2, 120), microseconds=rng.randrange(1_000_000))
    if rng.random() < 0.05:  # on the edges of `now` and of the windows
        edge = rng.choice([0, 7, 2.5, 0.5])
        age = timedelta(days=edge) + timedelta(microseconds=rng.choice([-1, 0, 1]))
    return EventFacts(
        id=str(i),
        type=kind,
        occurred_at=NOW - age,
        name=rng.choice(TRACKS) if kind == "track" else rng.choice([None, "Pricing"]),
        properties=properties,
        context=context,
    )


def make_data(
    playbook: Playbook, seed: int, leads: int = 300, events: int = 6000
) -> tuple[list[dict[str, Any]], list[list[EventFacts]]]:
    rng = random.Random(seed)
    facts = []
    for i in range(leads):
        lead, account = make_lead(rng, i)
        tier = playbook.tier_of(account["domain"]) if account else None
        facts.append(lead_facts(lead, account, tier.id if tier else None))
    timelines: list[list[EventFacts]] = [[] for _ in range(leads)]
    for k in range(events):
        timelines[min(int(rng.paretovariate(0.8)), leads) - 1].append(make_event(rng, k))
    return facts, timelines


def columns(
    playbook: Playbook, facts: list[dict[str, Any]], timelines: list[list[EventFacts]]
) -> tuple[LeadColumns, EventColumns]:
    """Columns as a caller extracts them: the value each path reads (missing stays missing)."""
    leads = LeadColumns(
        size=len(facts),
        facts={p: objects([lookup(f, p) for f in facts]) for p in fact_paths(playbook)},
        tier=objects([f["account"]["tier"] for f in facts]),
    )
    rows = [(i, e) for i, timeline in enumerate(timelines) for e in timeline]
    events = EventColumns(
        lead=np.array([i for i, _ in rows], dtype=np.int64),
        type=objects([e.type for _, e in rows]),
        name=objects([e.name for _, e in rows]),
        occurred_us=np.array([epoch_micros(e.occurred_at) for _, e in rows], dtype=np.int64),
        where={
            p: objects([lookup(e.as_facts(), p) for _, e in rows]) for p in event_paths(playbook)
        },
    )
    return leads, events


PLAYBOOKS = {
    "b2b": (EXAMPLES / "b2b_saas.yaml").read_text(),
    "b2c": (EXAMPLES / "b2c_chairs.yaml").read_text(),
    "windows": WINDOWS,
    "decay": DECAY,
}


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
@pytest.mark.parametrize("seed", [1, 2])
def test_bulk_equals_core(name: str, seed: int) -> None:
    playbook = parse_playbook(PLAYBOOKS[name])
    facts, timelines = make_data(playbook, seed)
    leads, events = columns(playbook, facts, timelines)

    bulk = score_leads(playbook, leads, events, NOW)

    for i, (lead, timeline) in enumerate(zip(facts, timelines, strict=True)):
        core = score_from_events(playbook, lead, timeline, NOW)
        assert (bulk.fit[i], bulk.engagement[i], bulk.total[i]) == (
            core.fit,
            core.engagement,
            core.total,
        ), i
        assert bulk.grade[i] == core.grade
        assert bulk.persona[i] == (core.persona.id if core.persona else None)
        expected = [(c.rule, c.label, c.kind, c.points) for c in core.contributions]
        assert bulk.contributions(i) == expected, i
    assert bulk.contribution_lists() == [bulk.contributions(i) for i in range(leads.size)]


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
def test_contributions_are_hundredths_that_add_up_to_the_scores_as_shown(name: str) -> None:
    """A rule's points as the playbook writes them (2.345, 0.333) are shown to the hundredth,
    as the scores are: what a reader adds up from `leads show --json` is the total."""
    playbook = parse_playbook(PLAYBOOKS[name])
    facts, timelines = make_data(playbook, seed=1)
    bulk = score_leads(playbook, *columns(playbook, facts, timelines), NOW)
    for i, (lead, timeline) in enumerate(zip(facts, timelines, strict=True)):
        core = score_from_events(playbook, lead, timeline, NOW)
        shown = [Decimal(repr(c.points)) for c in core.contributions]
        assert all(p == round(p, 2) for p in shown), core.contributions
        fit = [Decimal(repr(c.points)) for c in core.contributions if c.kind != "engagement"]
        assert (sum(fit, Decimal(0)), sum(shown, Decimal(0))) == (
            Decimal(repr(core.fit)),
            Decimal(repr(core.total)),
        ), core.contributions
        assert [p for *_, p in bulk.contributions(i)] == [c.points for c in core.contributions]


def test_bulk_sees_every_kind_of_rule_fire() -> None:
    """The random data is rich enough: each rule and tier gives points to some lead."""
    for text in PLAYBOOKS.values():
        playbook = parse_playbook(text)
        leads, events = columns(playbook, *make_data(playbook, seed=1))
        bulk = score_leads(playbook, leads, events, NOW)
        given = bulk.points.any(axis=0)
        silent = [c.rule for c, fired in zip(bulk.columns, given, strict=True) if not fired]
        expected_silent = [f"tier:{t.id}" for t in playbook.tiers if not t.points]
        assert sorted(silent) == sorted(expected_silent), playbook.name


def test_no_leads_and_no_events() -> None:
    playbook = parse_playbook(PLAYBOOKS["b2b"])
    leads, events = columns(playbook, [], [])
    bulk = score_leads(playbook, leads, events, NOW)
    assert len(bulk.total) == 0 and bulk.contribution_lists() == []


def test_sums_on_a_hundredth_tie_are_settled_by_the_core() -> None:
    # 0.25 points a day old at a one-day half-life is exactly 0.125: a tie Python rounds to
    # even (0.12); 0.015 * 100 is 1.5 in floats although 0.015 is below it (0.01). Decay is
    # measured in half-lives since 1970, so whole days at midnight weigh exact powers of two.
    midnight = NOW.replace(hour=0)
    playbook = Playbook.model_validate(
        {
            "name": "ties",
            "engagement": {
                "half_life_days": 1,
                "rules": [
                    {"id": "tie", "label": "Tie", "points": 0.25, "event": {"type": "page"}},
                    {
                        "id": "flat",
                        "label": "Flat",
                        "points": 0.015,
                        "decay": False,
                        "event": {"type": "page"},
                    },
                ],
            },
        }
    )
    event = EventFacts("1", "page", midnight - timedelta(days=1))
    facts, timelines = [lead_facts({"email": "a@b.c"})], [[event]]
    bulk = score_leads(playbook, *columns(playbook, facts, timelines), midnight)
    core = score_from_events(playbook, facts[0], timelines[0], midnight)
    assert [c.points for c in core.contributions] == [0.12, 0.01]
    expected = [(c.rule, c.label, c.kind, c.points) for c in core.contributions]
    assert bulk.contributions(0) == expected
    assert bulk.total[0] == core.total == 0.13


@pytest.mark.parametrize("seed", [1, 2])
def test_accounts_equal_score_account(seed: int) -> None:
    playbook = parse_playbook(PLAYBOOKS["decay"])
    rng = random.Random(seed)
    accounts = [make_lead(rng, i)[1] or {"domain": "x.com"} for i in range(60)]
    account_facts = []
    for account in accounts:
        tier = playbook.tier_of(account["domain"])
        account_facts.append(lead_facts({}, account, tier.id if tier else None)["account"])
    owner = np.array([rng.randrange(-1, len(accounts)) for _ in range(900)], dtype=np.int64)
    engagement = np.array([rng.choice([0, -3.5, 0.01, 15, 15.01, 33.33, 99.99]) for _ in owner])
    paths = [p for p in fact_paths(playbook) if p.startswith("account.")]
    columns = {p: objects([lookup({"account": a}, p) for a in account_facts]) for p in paths}
    table = LeadColumns(len(accounts), columns, objects([a["tier"] for a in account_facts]))

    bulk = score_accounts(playbook, table, owner, engagement)

    for k, account in enumerate(account_facts):
        core = score_account(playbook, account, engagement[owner == k].tolist())
        got = (bulk.fit[k], bulk.engagement[k], bulk.total[k], bulk.engaged[k], bulk.leads[k])
        assert got == (core.fit, core.engagement, core.total, core.engaged_leads, core.leads)


TRICKY = [0.125, 0.135, 2.675, 1.005, 0.015, -0.015, -0.001, 0.0, -0.0, 1e-320, 5e9 + 0.005]


@given(st.floats(min_value=-1e12, max_value=1e12) | st.sampled_from(TRICKY))
def test_round_points_is_pythons_round(value: float) -> None:
    got = round_points(np.array([value]))[0]
    assert got == round(value, 2) + 0.0
    assert got != 0 or math.copysign(1, got) == 1  # never -0.0


def test_round_points_on_many_hundredths() -> None:
    values = np.array([k / 1000 for k in range(-20_000, 20_000)] + [1e308, -1e308, math.inf])
    assert round_points(values).tolist() == [round(v, 2) + 0.0 for v in values.tolist()]


ODD = [0.005, 0.1, 0.2, 1 / 3, -0.015, 2.345, 1e-9]


@given(st.lists(st.lists(st.sampled_from(ODD), min_size=4, max_size=4)))
def test_row_sums_are_fsums(rows: list[list[float]]) -> None:
    matrix = np.array(rows).reshape(len(rows), 4)
    assert row_sums(matrix).tolist() == [points_sum(r) for r in rows]


@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from([0.005, 0.1, 0.7, 1 / 3]))))
def test_group_sums_are_fsums(pairs: list[tuple[int, float]]) -> None:
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.float64)
    expected = [points_sum(v for g, v in pairs if g == k) for k in range(5)]
    assert group_sums(groups, values, 5).tolist() == expected


def test_encoder_keeps_apart_what_conditions_tell_apart() -> None:
    values = [1, True, 1.0, "1", None, [1], {"a": 1}, -0.0, 0.0, "1"]
    encoder = Encoder()
    codes = encoder.encode(values[:4]).tolist() + encoder.encode(values[4:]).tolist()
    assert codes == [0, 1, 2, 3, 4, 5, 6, 7, 8, 3]
    table = FactTable({"flag": Coded(np.array(codes, dtype=np.int64), encoder.values)}, 10)
    holds = table.test(Condition.model_validate({"field": "flag", "equals": True}))
    assert holds.tolist() == [False, True, False, False, False, False, False, False, False, False]


def test_numeric_columns_read_nan_as_missing() -> None:
    table = FactTable({"n": np.array([1.0, math.nan, 3.0])}, 3)
    missing = Condition.model_validate({"field": "n", "exists": False})
    assert table.test(missing).tolist() == [False, True, False]


def test_microseconds_round_trip() -> None:
    moment = datetime(2031, 7, 4, 1, 2, 3, 999_999, tzinfo=UTC)
    assert from_micros(epoch_micros(moment), moment) == moment
    naive = moment.replace(tzinfo=None)
    assert from_micros(epoch_micros(naive), naive) == naive


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=20))
def test_score_bands_are_each_totals_score_band(totals: list[float]) -> None:
    """The bulk writers' bands (NumPy) are the live writer's, for any float at all."""
    found = score_bands(np.array(totals, np.float64)).tolist()
    assert found == [score_band(t) for t in totals]
    assert all(abs(b) <= 2_000_000_000 and b % 20 == 0 for b in found)
