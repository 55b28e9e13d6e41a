"""A name, a title, a company is one line wherever it comes in and wherever it is shown."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.alert_text import summary
from leadflow.core.records import AccountRecord, LeadRecord
from leadflow.core.single_line import one_line


def test_line_breaks_and_control_characters_become_one_space() -> None:
    assert one_line("Kai\r\nBcc: all@evil.example") == "Kai Bcc: all@evil.example"
    assert one_line(" Lee\x00\x07 ") == "Lee"
    assert one_line("VP \n\n Ops\u2028EMEA\x85x\tY") == "VP Ops EMEA x Y"
    assert one_line("\r\n") == ""
    assert one_line("Ann Lee", 3) == "Ann"
    assert one_line("Ann\nLee", 4) == "Ann"  # cut, then trimmed


@given(st.text())
def test_one_line_is_one_line(text: str) -> None:
    flat = one_line(text, 200)
    assert flat.splitlines() in ([], [flat]) and len(flat) <= 200
    assert flat == one_line(flat)
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in flat)


def test_an_import_keeps_names_on_one_line() -> None:
    row = {"email": "kai@litware.io", "first_name": "Kai\r\nLee", "title": "VP\nOps",
           "company": "\r\n", "last_name": "Lee\x07"}  # fmt: skip
    lead = LeadRecord.model_validate(row)
    assert (lead.first_name, lead.last_name, lead.title, lead.company) == (
        "Kai Lee", "Lee", "VP Ops", None)  # fmt: skip
    assert AccountRecord.model_validate({"domain": "litware.io", "name": "Lit\nware"}).name == (
        "Lit ware"
    )


def test_an_alert_title_is_one_line_whatever_was_stored() -> None:
    lead = {"name": "Kai\r\nLee", "email": "kai@litware.io", "title": "VP\nWhy: forged",
            "company": "Lit\nware"}  # fmt: skip
    title, body = summary({"type": "lead.sales_ready", "data": {"lead": lead, "why": {}}})
    assert title == "lead.sales_ready: Kai Lee at Lit ware"
    assert body.splitlines()[:2] == ["VP Why: forged at Lit ware", "Why: "]


def test_a_long_run_of_blanks_is_flattened_in_one_pass() -> None:
    # Anybody holding the public write key sends names: a run of blanks without a control
    # character in it made the pattern backtrack over the whole run at each of its
    # positions (16,000 blanks took a second, a 32 KB message's worth about five).
    blanks = " " * 1_000_000
    assert one_line(f"{blanks}Kai{blanks}Lee{blanks}", 200) == f"Kai{blanks}Lee"[:200].rstrip()
    assert one_line(f"Kai{blanks}\n{blanks}Lee") == "Kai Lee"


_REFERENCE = re.compile(r"\s*[\x00-\x1f\x7f-\x9f\u2028\u2029]+[\s\x00-\x1f\x7f-\x9f]*")


@given(st.text(alphabet=st.sampled_from(" \t\n\r\x00\x07\x85\u2028\u00a0\u3000ab"), max_size=30))
def test_each_run_of_breaks_and_the_blanks_around_it_is_one_space(text: str) -> None:
    assert one_line(text) == _REFERENCE.sub(" ", text).strip()
