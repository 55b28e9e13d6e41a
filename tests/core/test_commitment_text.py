"""The plan's MQLs written into a playbook's text as marketing's SLA commitment (pure)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.playbook_text import with_mql_commitment


def test_the_commitment_is_replaced_added_under_sla_or_appended() -> None:
    assert with_mql_commitment("sla:\n  mql_commitment_per_month: 5\nrouting: {}\n", 12) == (
        "sla:\n  mql_commitment_per_month: 12\nrouting: {}\n"
    )
    assert with_mql_commitment("name: x\nsla:\nrouting: {}\n", 3) == (
        "name: x\nsla:\n  mql_commitment_per_month: 3\nrouting: {}\n"
    )
    assert with_mql_commitment("name: x\n", 3) == "name: x\n\nsla:\n  mql_commitment_per_month: 3\n"


def test_a_long_run_of_blank_lines_is_read_in_one_pass() -> None:
    # The pattern took the blanks before the key across lines, from every line start of a
    # run of blank lines (8,000 blank lines took 0.2 s; a playbook of 1,000,000 an hour).
    blank = "\n" * 1_000_000
    text = f"name: x{blank}sla:{blank}  mql_commitment_per_month: 5\nrouting: {{}}{blank}"
    assert with_mql_commitment(text, 7) == text.replace("per_month: 5", "per_month: 7")
    assert (
        with_mql_commitment(f"name: x{blank}", 7)
        == "name: x\n\nsla:\n  mql_commitment_per_month: 7\n"
    )


# The former edit, as it was (the regular expressions and their order).
_FORMER = re.compile(r"^(\s*)mql_commitment_per_month:\s*\S+\s*$", re.MULTILINE)


def _former(text: str, per_month: int) -> str:
    line = f"mql_commitment_per_month: {per_month}"
    if _FORMER.search(text):
        return _FORMER.sub(lambda m: f"{m[1]}{line}", text, count=1)
    if re.search(r"^sla:\s*$", text, re.MULTILINE):
        return re.sub(r"^sla:\s*$", f"sla:\n  {line}", text, count=1, flags=re.MULTILINE)
    return text.rstrip("\n") + f"\n\nsla:\n  {line}\n"


_PIECES = ["\n", " ", "\t", "\r", "\x0b", "\x85", "\u2028", "x", ":", "sla:", " 5",
           "mql_commitment_per_month:"]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_the_edit_is_the_former_one(text: str) -> None:
    assert with_mql_commitment(text, 9) == _former(text, 9)
