"""Every path gives a lead the same answer: events fed live one by one through ingest, the bulk
path (the re-score that import, rescore and playbook apply run) and `leads show` agree on fit,
engagement, total, grade, persona, stage, contributions and the routing decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.scoring import score_band
from leadflow.models import Account, Assignment, Event, Lead, StageChange
from leadflow.models.db import make_session_factory
from leadflow.services import leads as lead_service
from leadflow.services import pipeline
from leadflow.services.ingest.batch import ingest, parse_all

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
DOMAINS = ["acme.com", "globex.io", "initech.net"]
BEFORE = NOW - timedelta(days=60)

conditions = st.sampled_from(
    [
        {"field": "title", "regex": "(?i)vp|head"},
        {"field": "country", "in": ["US", "DE"]},
        {"field": "email_domain", "in": ["acme.com"]},
        {"field": "account.industry", "equals": "Software"},
        {"field": "account.segment", "equals": "mid"},
        {"field": "account.tier", "in": ["top"]},
        {"field": "tier", "exists": True},
        {"field": "budget", "gte": 500},
        {"field": "probability", "gte": 0.5},
        {"not": {"field": "plan", "equals": "free"}},
    ]
)
points = st.sampled_from([-15, -2.5, 1.25, 3, 7.5, 20])


@st.composite
def fit_rules(draw: Any) -> list[dict[str, Any]]:
    rules = []
    for k, when in enumerate(draw(st.lists(conditions, max_size=4))):
        rules.append({"id": f"f{k}", "label": f"Fit {k}", "points": draw(points), "when": when})
    if draw(st.booleans()):
        scale = draw(st.sampled_from(["linear", "log10"]))
        zero_at = 1.0 if scale == "log10" else 300.0
        distance = {"field": "account.employees", "ideal": [50, 200], "zero_at": zero_at}
        rules.append({"id": "size", "label": "Size", "points": 17.5,
                      "distance": {**distance, "scale": scale}})  # fmt: skip
    return rules


@st.composite
def engagement_rules(draw: Any) -> list[dict[str, Any]]:
    pool = [
        {"event": {"type": "page", "where": {"field": "properties.path", "regex": "^/pricing"}}},
        {"event": {"type": "page"}},
        {"event": {"type": "track", "name": "Webinar Attended"}},
        {"event": {"type": "track", "name": "Unsubscribed"}, "decay": False},
    ]
    rules = []
    for k, base in enumerate(draw(st.lists(st.sampled_from(pool), max_size=4))):
        rule = {"id": f"e{k}", "label": f"Engagement {k}", "points": draw(points), **base}
        extra = draw(st.sampled_from(["", "cap", "window", "half_life"]))
        if extra == "cap":
            rule["cap"] = 8
        elif extra == "window":
            rule["window"] = {"count": 2, "days": 3}
        elif extra == "half_life":
            rule["half_life_days"] = draw(st.sampled_from([0.5, 4.0]))
        rules.append(rule)
    return rules


@st.composite
def playbooks(draw: Any) -> Playbook:
    personas = [
        {"id": f"p{k}", "name": f"P{k}", "min_match": 0.5, "criteria": criteria}
        for k, criteria in enumerate(
            draw(st.lists(st.lists(conditions, min_size=1, max_size=2), max_size=2))
        )
    ]
    routing = [
        {"id": f"r{k}", "when": when, "team": f"team{k}"}
        for k, when in enumerate(
            draw(
                st.lists(
                    st.sampled_from(
                        [
                            {"field": "account.tier", "in": ["top", "target"]},
                            {"field": "tier", "equals": "target"},
                            {"field": "account.employees", "lt": 100},
                            {"field": "account.segment", "equals": "mid"},
                            {"field": "persona", "exists": True},
                        ]
                    ),
                    max_size=3,
                )
            )
        )
    ]
    document = {
        "name": "Generated",
        "custom_fields": ["budget", "plan"],
        "account_custom_fields": ["segment"],
        "personas": personas,
        "tiers": [
            {"id": "top", "max_accounts": 1, "points": draw(points), "domains": ["acme.com"]},
            {"id": "target", "max_accounts": 2, "domains": ["globex.io"]},
        ],
        "fit": {"rules": draw(fit_rules())},
        "engagement": {
            "half_life_days": draw(st.sampled_from([None, 2.0, 30.0])),
            "rules": draw(engagement_rules()),
        },
        "lifecycle": {
            "mql": draw(
                st.sampled_from(
                    [
                        {"field": "total", "gte": draw(st.sampled_from([5, 15, 30]))},
                        # the account's score: its fit plus its buying group's engagement
                        {
                            "any": [
                                {"field": "account.score", "gte": 12},
                                {"field": "total", "gte": 30},
                            ]
                        },
                    ]
                )
            ),
            "hand_raisers": [{"event": {"type": "track", "name": "Demo Requested"}}],
            "on_decay": "fall_back",  # the last word is the current score's, on every path
        },
        "routing": {"account_owner_first": False, "rules": routing, "fallback": "inbound"},
    }
    return parse_playbook(yaml.safe_dump(document))


EVENTS = [
    ("page", None, "/pricing"),
    ("page", None, "/blog"),
    ("track", "Webinar Attended", None),
    ("track", "Unsubscribed", None),
    ("track", "Demo Requested", None),
]
people = st.lists(
    st.fixed_dictionaries(
        {
            "domain": st.sampled_from([*DOMAINS, "gmail.com"]),
            "title": st.sampled_from([None, "VP Ops", "Engineer"]),
            "country": st.sampled_from([None, "US", "FR"]),
            "probability": st.sampled_from([None, 0.2, 0.5, 0.9]),
            "attributes": st.fixed_dictionaries(
                {"budget": st.sampled_from([100, 600]), "plan": st.sampled_from(["free", "pro"])}
            ),
        }
    ),
    min_size=1,
    max_size=3,
)
streams = st.lists(
    # How long before `now`, to the microsecond: often within a second of it (the edge where
    # SQLite's rounding of times once put an event after `now` on the bulk path only).
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(EVENTS),
        st.one_of(
            st.sampled_from([0, 1, 3, 499, 500, 501, 250_000, 999_999, 1_000_001]).map(
                lambda micros: timedelta(microseconds=micros)
            ),
            st.timedeltas(timedelta(0), timedelta(days=20)),
        ),
    ),
    max_size=12,
)


def _populate(session: Session, persons: list[dict[str, Any]]) -> list[Lead]:
    accounts = {}
    for k, domain in enumerate(DOMAINS):
        accounts[domain] = Account(
            domain=domain, name=domain, industry=["Software", "Retail", None][k],
            employees=[120, 40, 900][k], attributes={"segment": ["mid", "smb", "mid"][k]},
        )  # fmt: skip
    session.add_all(accounts.values())
    session.flush()
    leads = []
    for k, person in enumerate(persons):
        account = accounts.get(person["domain"])
        lead = Lead(
            email=f"p{k}@{person['domain']}", title=person["title"], country=person["country"],
            probability=person["probability"], attributes=person["attributes"],
            account_id=account.id if account else None, created_at=BEFORE,
        )  # fmt: skip
        session.add(lead)
        leads.append(lead)
    session.flush()
    return leads


def _feed_live(session: Session, book: Playbook, leads: list[Lead], stream: list[Any]) -> None:
    ordered = sorted(stream, key=lambda item: item[2], reverse=True)  # oldest first
    for n, (who, (kind, name, path), before_now) in enumerate(ordered):
        lead = leads[who % len(leads)]
        message: dict[str, Any] = {
            "type": kind, "userId": lead.email, "messageId": f"m{n}",
            "timestamp": (NOW - before_now).isoformat(),
            "properties": {"path": path} if path else {},
        }  # fmt: skip
        if kind == "track":
            message["event"] = name
        messages, rejected = parse_all([message], NOW)
        assert not rejected
        ingest(session, book, messages, source="test", now=NOW)


def _answer(session: Session, book: Playbook, lead: Lead, now: datetime = NOW) -> dict[str, Any]:
    session.refresh(lead)
    shown = lead_service.detail(session, str(lead.id), book, now)
    latest = session.scalars(
        select(Assignment).where(Assignment.lead_id == lead.id).order_by(Assignment.id.desc())
    ).first()
    parts = [_part(c) for c in lead.contributions]
    why = [c["detail"] for c in shown["contributions"]]
    answer = {
        "fit": lead.fit, "engagement": lead.engagement, "total": lead.total,
        "grade": lead.grade, "persona": lead.persona, "stage": lead.stage,
        "score_band": lead.score_band, "contributions": parts, "why": why,
        "route": (latest.team, latest.reason) if latest else None,
    }  # fmt: skip
    shown_parts = [_part(c) for c in shown["contributions"]]
    assert (shown["total"], shown["grade"], shown_parts) == (lead.total, lead.grade, parts)
    assert lead.score_band == score_band(lead.total), "the band stored is the total's"
    return answer


def _part(entry: dict[str, Any]) -> tuple[Any, ...]:
    """A contribution: its rule, points and how many events it counted (its why, told from
    these when shown, is compared as `why`; which events, by id, only live scoring keeps)."""
    return (entry["rule"], entry["label"], entry["kind"], entry["points"],
            entry.get("event_count", 0))  # fmt: skip


def _forget(session: Session, *, without_occurred_us: bool = False) -> None:
    """Back to before any scoring: what an import of the same leads and events starts from
    (`without_occurred_us`: as a raw-SQL writer or a database from before 0013 left them)."""
    if without_occurred_us:
        session.execute(update(Event).values(occurred_us=None))
    session.execute(delete(Assignment))
    session.execute(delete(StageChange))
    reset = {"stage": "subscriber", "stage_changed_at": None, "grade": None, "persona": None,
             "fit": 0.0, "engagement": 0.0, "total": 0.0, "score_band": 0, "contributions": [],
             "owner": None,
             "reached_rank": -1}  # fmt: skip
    session.execute(update(Lead).values(reset))
    session.expire_all()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(book=playbooks(), persons=people, stream=streams, raw_times=st.booleans())
def test_live_bulk_and_show_agree(
    engine: Engine,
    book: Playbook,
    persons: list[dict[str, Any]],
    stream: list[Any],
    raw_times: bool,
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        leads = _populate(session, persons)
        _feed_live(session, book, leads, stream)
        pipeline.run_live(session, book, [x.id for x in leads], NOW, cause="edit")
        live = [_answer(session, book, lead) for lead in leads]
        _forget(session, without_occurred_us=raw_times)
        pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
        bulk = [_answer(session, book, lead) for lead in leads]
        session.rollback()
    assert live == bulk


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    book=playbooks(),
    persons=people,
    stream=streams,
    later=st.timedeltas(timedelta(microseconds=1), timedelta(days=6)),
)
def test_the_decay_sweep_agrees_with_live_scoring_later(
    engine: Engine,
    book: Playbook,
    persons: list[dict[str, Any]],
    stream: list[Any],
    later: timedelta,
) -> None:
    """Time passes with no event: the worker's sweep (stored states aged, only moved leads
    written) and scoring each lead live at that moment give the same answer."""
    with make_session_factory(engine)() as session, session.begin():
        leads = _populate(session, persons)
        _feed_live(session, book, leads, stream)
        pipeline.run_live(session, book, [x.id for x in leads], NOW, cause="edit")
        with session.begin_nested() as moment:
            pipeline.run_decay(session, book, NOW + later)
            swept = [_answer(session, book, lead, NOW + later) for lead in leads]
            moment.rollback()
        session.expire_all()  # the sweep wrote with Core: forget what the ORM read since
        pipeline.run_live(session, book, [x.id for x in leads], NOW + later, cause="edit")
        live = [_answer(session, book, lead, NOW + later) for lead in leads]
        session.rollback()
    assert swept == live


SUB_SECOND = """
name: Sub-second
engagement:
  half_life_days: 2.0
  rules:
    - {id: pages, label: Pages, points: 3, event: {type: page}}
    - {id: recent, label: Recent, points: 5, event: {type: page}, window: {count: 1, days: 3}}
"""


@pytest.mark.parametrize("before_now", [timedelta(microseconds=3), timedelta(milliseconds=250)])
@pytest.mark.parametrize("stored_time", ["occurred_us", "occurred_at only"])
def test_an_event_a_fraction_of_a_second_before_now_counts_on_every_path(
    engine: Engine, before_now: timedelta, stored_time: str
) -> None:
    """`occurred_at only`: events a raw-SQL writer left without `occurred_us`, which the bulk
    path then computes from the stored timestamp."""
    book = parse_playbook(SUB_SECOND)
    with make_session_factory(engine)() as session, session.begin():
        leads = _populate(session, [{"domain": "acme.com", "title": None, "country": None,
                                     "probability": None, "attributes": {}}])  # fmt: skip
        _feed_live(session, book, leads, [(0, EVENTS[1], before_now)])
        pipeline.run_live(session, book, [leads[0].id], NOW, cause="edit")
        live = _answer(session, book, leads[0])
        _forget(session, without_occurred_us=stored_time == "occurred_at only")
        pipeline.run_bulk(session, book, NOW, cause="rescore", actor="rescore")
        bulk = _answer(session, book, leads[0])
        session.rollback()
    assert live["engagement"] > 0
    assert live == bulk
