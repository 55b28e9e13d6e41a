"""Leads repository: upsert by e-mail, ranking, scores, stages and facts."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from leadflow.repositories import accounts, lead_lists, leads, rescoring, stage_facts
from tests.repositories.conftest import NOW


def _lead(email: str, **fields: object) -> dict[str, object]:
    return {"email": email, "created_at": NOW, "updated_at": NOW, **fields}


def test_upsert_by_email_is_case_insensitive(session: Session) -> None:
    assert leads.upsert_many(session, [_lead("Jane@Acme.com", title="VP", attributes={"a": 1})])
    count = leads.upsert_many(
        session,
        [_lead("jane@acme.com", title=None, phone="555", attributes={"b": 2}), _lead("x@y.com")],
    )
    assert count == 2
    jane = leads.get_by_email(session, " JANE@acme.com ")
    assert jane is not None
    session.refresh(jane)
    assert (jane.email, jane.title, jane.phone) == ("jane@acme.com", "VP", "555")
    assert jane.attributes == {"a": 1, "b": 2}
    assert (jane.stage, jane.total, jane.contributions) == ("subscriber", 0.0, [])
    assert leads.ids_by_email(session, ["JANE@ACME.COM", "nobody@x.com"]) == {
        "jane@acme.com": jane.id
    }


def test_create_flushes_an_id(session: Session) -> None:
    lead = leads.create(session, email="New@Example.com", first_name="N")
    assert lead.id is not None
    assert leads.get(session, lead.id) is lead
    assert lead.email == "new@example.com"


def test_list_top_orders_and_filters(session: Session) -> None:
    leads.upsert_many(session, [_lead(f"l{i}@x.com") for i in range(4)])
    ids = leads.ids_by_email(session, [f"l{i}@x.com" for i in range(4)])
    scored = [  # email, fit, engagement, total, grade, persona, contributions
        ("l0@x.com", 1.0, 0.0, 1.0, "D4", None, []),
        ("l1@x.com", 50.0, 10.0, 60.0, "A1", "ops", [{"rule": "r", "points": 60.0}]),
        ("l2@x.com", 60.0, 0.0, 60.0, "A4", "ops", []),
    ]
    names = ("id", "fit", "engagement", "total", "grade", "persona", "contributions")
    columns = {name: [row[k] for row in scored] for k, name in enumerate(names)}
    columns["id"] = [ids[email] for email in columns["id"]]
    columns["contributions"] = [json.dumps(c) for c in columns["contributions"]]
    rescoring.write_lead_scores(session, columns, NOW)
    leads.set_stages(session, [(ids["l2@x.com"], "subscriber", "mql")], at=NOW)
    session.expire_all()
    top = lead_lists.list_top(session, limit=3)
    assert [lead.email for lead in top] == ["l1@x.com", "l2@x.com", "l0@x.com"]
    assert top[0].contributions == [{"rule": "r", "points": 60.0}]
    assert top[0].scored_at == NOW
    assert [x.email for x in lead_lists.list_top(session, persona="ops", stage="mql")] == [
        "l2@x.com"
    ]
    assert [x.email for x in lead_lists.list_top(session, grade="A1")] == ["l1@x.com"]
    assert [x.email for x in lead_lists.list_top(session, limit=1, offset=1)] == ["l2@x.com"]
    assert leads.count_by_stage(session) == {"subscriber": 3, "mql": 1}


def test_sorting_by_owner_or_grade_puts_the_leads_without_one_last_on_both_engines(
    session: Session,
) -> None:
    """SQLite sorts NULL first and PostgreSQL last: the same page must not depend on it."""
    rows = [("u@x.com", None, None), ("b@x.com", "bea@co.io", "B2"), ("a@x.com", "al@co.io", "A1")]
    leads.upsert_many(session, [_lead(email, owner=owner, grade=g) for email, owner, g in rows])
    wanted = lead_lists.LeadFilter()
    by_owner = lead_lists.list_leads(session, wanted, sort="owner", limit=10, offset=0)
    assert [lead.owner for lead in by_owner] == ["al@co.io", "bea@co.io", None]
    by_grade = lead_lists.list_leads(session, wanted, sort="grade", limit=10, offset=0)
    assert [lead.grade for lead in by_grade] == ["A1", "B2", None]


def test_set_stages_moves_and_keeps_the_furthest_rank(session: Session) -> None:
    lead = leads.create(session, email="a@b.com")
    later = NOW + timedelta(days=1)
    leads.set_stages(session, [(lead.id, "subscriber", "sql")], at=later)
    session.refresh(lead)
    assert (lead.stage, lead.stage_changed_at, lead.reached_rank) == ("sql", later, 3)
    leads.set_stages(session, [(lead.id, "sql", "nurture")], at=later)
    session.refresh(lead)
    assert (lead.stage, lead.reached_rank) == ("nurture", 3)  # it was an SQL once
    assert leads.entered_at(session, [lead.id]) == {lead.id: later}


def test_facts_join_the_account(session: Session) -> None:
    accounts.upsert_many(
        session,
        [
            {
                "domain": "acme.com",
                "name": "Acme",
                "employees": 80,
                "tier": "top",
                "attributes": {"crm": "hubspot"},
            }
        ],
    )
    account_id = accounts.ids_by_domain(session)["acme.com"]
    leads.upsert_many(
        session,
        [_lead("a@acme.com", title="COO", account_id=account_id), _lead("b@gmail.com")],
    )
    leads.set_stages(
        session,
        [(leads.ids_by_email(session, ["b@gmail.com"])["b@gmail.com"], "lead", "nurture")],
        at=NOW,
    )
    rows = stage_facts.ids_and_facts(session)
    assert [r.lead_facts["email"] for r in rows] == ["a@acme.com", "b@gmail.com"]
    assert rows[0].lead_facts["title"] == "COO"
    assert rows[0].account_facts["employees"] == 80
    # The tier is the playbook's, by domain (core.facts): the stored column, which a playbook
    # change can leave stale, is never read as a fact.
    assert rows[0].account_facts["domain"] == "acme.com" and "tier" not in rows[0].account_facts
    assert rows[0].account_facts["attributes"] == {"crm": "hubspot"}
    assert rows[1].account_facts == {}
    assert [r.id for r in stage_facts.ids_and_facts(session, lead_ids=[rows[1].id])] == [rows[1].id]
    nurtured = stage_facts.stage_candidates(session, stages=["nurture"])
    assert [r.id for r in nurtured] == [rows[1].id]
