"""Conditions hold or not on any value a client can send: none raises."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.conditions import Condition, _same, among, as_number, describe, evaluate
from leadflow.core.playbook_text import PlaybookInvalid, parse_playbook

NUMERIC = [
    Condition(field="budget", gte=500),
    Condition(field="budget", range=(10, 1000)),
    Condition(field="budget", equals=500),
    Condition(field="budget", in_=[500, "1000"]),
]

values = st.one_of(
    st.integers(),
    st.integers(min_value=10**300, max_value=10**4000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.sampled_from(["1e400", "-1e400", "inf", "NaN", "1" * 401, "1,000"]),
)


@given(value=values)
def test_no_value_makes_a_numeric_condition_raise(value: Any) -> None:
    for condition in NUMERIC:
        assert evaluate(condition, {"budget": value}) in (True, False)


def test_a_number_beyond_any_float_is_no_number() -> None:
    # A 401-digit integer from a trait: neither a huge budget nor a crash.
    assert as_number(10**400) is None
    assert as_number("1" * 401) is None
    assert as_number("1e400") is None
    assert not evaluate(Condition(field="budget", gte=500), {"budget": 10**400})


def test_ordinary_numbers_still_compare() -> None:
    assert as_number(2**70) == float(2**70)
    assert as_number("1,500") == 1500.0
    assert as_number("$1,234.50") == 1234.5


def test_a_comma_that_separates_no_thousands_is_no_number() -> None:
    """`1,5` was read as 15 (every comma dropped), so `gte: 10` held on it."""
    assert as_number("1,5") is None
    assert not evaluate(Condition(field="budget", gte=10), {"budget": "1,5"})
    assert evaluate(Condition(field="budget", gte=500), {"budget": "1,500"})


options = st.lists(st.one_of(st.text(max_size=4), st.integers(-5, 5), st.floats(-5, 5)), max_size=5)
texts = st.one_of(
    st.text(max_size=4), st.sampled_from(["ß", "SS", "ss", "Straße", "STRASSE", "1", "1.0"])
)


@given(value=st.one_of(texts, st.integers(-5, 5), st.booleans()), options=options)
def test_in_holds_exactly_when_the_value_is_the_same_as_an_option(
    value: Any, options: list[Any]
) -> None:
    # Text is looked up case-folded in a set when every option is text; the answer is the
    # one comparing the value with each option gives (`_same`: text in any case, numbers
    # as numbers, a flag only as itself).
    each = any(_same(value, option) for option in options)
    assert among(value, options) is each
    present = value not in ("", [])
    assert evaluate(Condition(field="x", in_=options), {"x": value}) is (present and each)
    assert evaluate(Condition(field="x", not_in=options), {"x": value}) is (present and not each)


def test_text_among_text_options_in_any_case() -> None:
    assert among("Gmail.COM", ["yahoo.com", "gmail.com"])
    assert among("STRASSE", ["straße"])  # case-folded, as `equals` compares text
    assert not among("gmail.co", ["gmail.com"])
    assert among("1,000", [1000, "x"])  # a number among the options: compared as numbers


def test_a_condition_reads_as_written_in_the_playbook() -> None:
    # An explanation quoted a regex as Python shows it, every backslash doubled:
    # "title regex '(?i)\\b(vp|head)\\b'" for the playbook's (?i)\b(vp|head)\b.
    assert describe(Condition(field="title", regex=r"(?i)\b(vp|head)\b")) == (
        r"title regex '(?i)\b(vp|head)\b'"
    )
    assert describe(Condition(field="account.tier", in_=["top", "target"])) == (
        "account.tier in ['top', 'target']"
    )
    assert describe(Condition(field="x", equals="two\nlines")) == r"x equals 'two\nlines'"


def test_a_regex_takes_time_in_proportion_to_the_text_whatever_a_client_sends() -> None:
    """A playbook's regex reads values a client sends with the public write key (a title, a
    page's path). A pattern that backtracks, written in good faith, must not let a crafted
    value hold a tracking call (and every caller behind its write) for hours: the engine
    runs in time proportional to the text. Run apart, so a backtracking engine is stopped at
    the bound (it would take longer than the universe has) instead of hanging the suite."""
    code = (
        "from leadflow.core.conditions import Condition, evaluate\n"
        "rule = Condition(field='title', regex='^(a|aa)+$')\n"
        "assert evaluate(rule, {'title': 'a' * 30})\n"
        "assert not evaluate(rule, {'title': 'a' * 5000 + 'b'})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=120, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_a_regex_only_a_backtracking_engine_runs_is_refused_with_what_to_write() -> None:
    for pattern in (r"(\w+)\s\1", r"foo(?=bar)", r"(?<!un)paid"):
        with pytest.raises(ValueError, match=r"lookaround|backreference") as refused:
            Condition(field="title", regex=pattern)
        assert pattern in str(refused.value)


def test_a_version_stored_with_a_lookaround_keeps_running_as_written() -> None:
    """A playbook installed before regexes ran on RE2 may hold a lookaround: the running
    system keeps it (on Python's engine), while the same text as a new playbook is refused."""
    text = (
        "name: Paid\nfit:\n  rules:\n    - {id: paid, label: Paid, points: 10,\n"
        "       when: {field: title, regex: '(?<!un)paid'}}\n"
    )
    with pytest.raises(PlaybookInvalid, match="lookaround"):
        parse_playbook(text)
    [rule] = parse_playbook(text, declared=False).fit.rules
    assert rule.when is not None
    assert evaluate(rule.when, {"title": "paid plan"})
    assert not evaluate(rule.when, {"title": "unpaid plan"})
