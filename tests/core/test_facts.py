"""What a rule can read is defined once: a path no fact supplies is refused at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadflow.core.facts import Source, facts_of, resolve, typed_facts
from leadflow.core.playbook_text import PlaybookInvalid, parse_playbook

B2B = (Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml").read_text()


def problems(text: str) -> list[tuple[str, int | None, str]]:
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(text)
    return [(p.path, p.line, p.message) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(k for k, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_misspelt_account_field_is_refused_at_its_line() -> None:
    wrong = "{field: acount.tier, in: [top]}"
    text = B2B.replace("{field: account.tier, in: [top, target]}", wrong)
    found = problems(text)
    path, line, message = found[0]
    assert path == "routing.rules[0].when.field"
    assert line == line_of(text, "acount.tier")
    assert "acount.tier" in message and "account.tier" in message  # the likely fix


def test_an_undeclared_custom_attribute_says_what_to_declare() -> None:
    rule = "    - {id: budget, label: Budget, points: 5, when: {field: budget, gte: 1000}}\n"
    account_rule = (
        "    - {id: seg, label: Seg, points: 5, when: {field: account.segment, equals: mid}}\n"
    )
    text = B2B.replace("fit:\n  rules:\n", "fit:\n  rules:\n" + rule + account_rule, 1)
    found = problems(text)
    assert [(p, ln) for p, ln, _ in found[:2]] == [
        ("fit.rules[0].when.field", line_of(text, "id: budget")),
        ("fit.rules[1].when.field", line_of(text, "id: seg")),
    ]
    assert "custom_fields: [budget]" in found[-1][2]
    assert "account_custom_fields: [segment]" in found[-1][2]
    declared = "custom_fields: [budget]\naccount_custom_fields: [segment]\n" + text
    book = parse_playbook(declared)
    assert book.custom_fields == ["budget"]


def test_a_score_is_no_fact_for_fit_rules_but_is_for_stage_criteria() -> None:
    rule = "    - {id: loop, label: Loop, points: 5, when: {field: total, gte: 10}}\n"
    text = B2B.replace("fit:\n  rules:\n", "fit:\n  rules:\n" + rule, 1)
    [(path, _, message), *_] = problems(text)
    assert path == "fit.rules[0].when.field"
    assert "only stage criteria and routing" in message
    assert resolve("total", scored=True) is not None


def test_a_stored_version_keeps_working_with_its_attributes_taken_as_declared() -> None:
    rule = "    - {id: budget, label: Budget, points: 5, when: {field: budget, gte: 1000}}\n"
    text = B2B.replace("fit:\n  rules:\n", "fit:\n  rules:\n" + rule, 1)
    assert parse_playbook(text, declared=False).custom_fields == ["budget"]


def test_sources() -> None:
    assert resolve("probability") == resolve("probability", ["probability"])
    assert resolve("probability").source is Source.LEAD_COLUMN  # type: ignore[union-attr]
    assert resolve("account.tier").source is Source.ACCOUNT_TIER  # type: ignore[union-attr]
    assert resolve("prefs.chair.budget", ["prefs"]).keys == ("chair", "budget")  # type: ignore[union-attr]
    assert resolve("account.segment") is None
    assert resolve("budget") is None


def test_facts_of_a_lead_at_a_tiered_account() -> None:
    book = parse_playbook(B2B)
    domain = book.tiers[0].domains[0]
    facts = facts_of(
        book,
        {"email": f"ann@{domain}", "probability": 0.7, "attributes": {"title": "VP"}},
        {"domain": domain, "employees": 120, "attributes": {}},
    )
    assert facts["account"]["tier"] == facts["tier"] == book.tiers[0].id
    assert facts["title"] == "VP" and facts["probability"] == 0.7
    assert facts["email_domain"] == domain
    # The model's probability is its column alone, never an attribute of the same name.
    guessed = facts_of(book, {"email": "a@b.io", "attributes": {"probability": 0.9}}, None)
    assert guessed["probability"] is None


def test_the_account_score_is_a_fact_for_stage_criteria_and_routing_only() -> None:
    rule = "    - {id: hot, label: Hot, points: 5, when: {field: account.score, gte: 50}}\n"
    text = B2B.replace("fit:\n  rules:\n", "fit:\n  rules:\n" + rule, 1)
    [(path, line, message), *_] = problems(text)
    assert (path, line) == ("fit.rules[0].when.field", line_of(text, "id: hot"))
    assert "account's score" in message and "only stage criteria and routing" in message
    routed = B2B.replace(
        "{field: account.tier, in: [top, target]}", "{field: account.score, gte: 50}"
    )
    book = parse_playbook(routed)
    assert resolve("account.score", scored=True).source is Source.ACCOUNT_SCORE  # type: ignore[union-attr]
    assert resolve("account.score") is None
    facts = facts_of(book, {"email": "a@x.io"}, {"domain": "x.io", "score": 61.5})
    assert facts["account"]["score"] == 61.5
    assert facts_of(book, {"email": "a@x.io"}, None)["account"].get("score") is None


def test_typed_facts_are_the_facts_of_a_lead_with_those_values() -> None:
    """A what-if (`/team/route`'s made-up facts) reads as a lead with those columns does: the
    tier from the account's domain, the e-mail's domain, the grade's letter and digit."""
    book = parse_playbook(B2B)
    typed = {"email": "ana@fabrikam.io", "title": "COO", "account.domain": "fabrikam.io",
             "account.employees": 120, "account.score": 80.0, "grade": "B2"}  # fmt: skip
    lead = {"email": "ana@fabrikam.io", "title": "COO"}
    account = {"domain": "fabrikam.io", "employees": 120, "score": 80.0}
    found = typed_facts(book, typed)
    assert found == {**facts_of(book, lead, account), "grade": "B2", "fit_letter": "B",
                     "engagement_digit": 2}  # fmt: skip
    assert found["tier"] == found["account"]["tier"] == "top"
    assert typed_facts(book, {"tier": "target"})["account"]["tier"] == "target"
    assert typed_facts(book, {"prefs.budget": 5})["prefs.budget"] == 5  # undeclared: as typed
