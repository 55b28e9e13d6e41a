"""The plan's MQLs written into a playbook's text as marketing's SLA commitment (pure): only
the commitment changes; the teams' comments, blank lines, style and line endings stay."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.playbook_edit import with_mql_commitment


def test_the_commitment_is_replaced_added_under_sla_or_appended() -> None:
    assert with_mql_commitment("sla:\n  mql_commitment_per_month: 5\nrouting: {}\n", 12) == (
        "sla:\n  mql_commitment_per_month: 12\nrouting: {}\n"
    )
    assert with_mql_commitment("name: x\nsla:\n  targets: []\nrouting: {}\n", 3) == (
        "name: x\nsla:\n  mql_commitment_per_month: 3\n  targets: []\nrouting: {}\n"
    )
    assert with_mql_commitment("name: x\n", 3) == "name: x\n\nsla:\n  mql_commitment_per_month: 3\n"


def test_what_the_teams_wrote_around_it_stays() -> None:
    """Each of these broke before: a blank line after the key or `sla:` was dropped; a comment
    on either line made the edit add a second key or section, which the playbook then refused
    ("given twice"); a flow mapping got a second `sla`; Windows line endings lost their `\\r`."""
    edits = {
        "sla:\n  mql_commitment_per_month: 5\n\n# routing\nrouting: {}\n":
            "sla:\n  mql_commitment_per_month: 9\n\n# routing\nrouting: {}\n",
        "sla:\n  mql_commitment_per_month: 5  # agreed in Q3\n":
            "sla:\n  mql_commitment_per_month: 9  # agreed in Q3\n",
        "sla:\n\n  targets: []\n": "sla:\n\n  mql_commitment_per_month: 9\n  targets: []\n",
        "sla:   # both teams\n  targets: []\n":
            "sla:   # both teams\n  mql_commitment_per_month: 9\n  targets: []\n",
        "sla: {targets: []}\n": "sla: {mql_commitment_per_month: 9, targets: []}\n",
        "sla:   # later\nname: x\n": "sla: {mql_commitment_per_month: 9}   # later\nname: x\n",
        "sla: null\n": "sla: {mql_commitment_per_month: 9}\n",
        "sla:\r\n  mql_commitment_per_month: 5\r\nrouting: {}\r\n":
            "sla:\r\n  mql_commitment_per_month: 9\r\nrouting: {}\r\n",
        "name: x\r\n": "name: x\r\n\r\nsla:\r\n  mql_commitment_per_month: 9\r\n",
        "sla:\n    targets: []\n": "sla:\n    mql_commitment_per_month: 9\n    targets: []\n",
    }  # fmt: skip
    for before, after in edits.items():
        assert with_mql_commitment(before, 9) == after, before


def test_a_long_run_of_blank_lines_is_read_in_one_pass() -> None:
    # A pattern over lines took the blanks before the key from every line start of a run of
    # blank lines (8,000 blank lines took 0.2 s; a playbook of 1,000,000 an hour).
    blank = "\n" * 1_000_000
    text = f"name: x{blank}sla:{blank}  mql_commitment_per_month: 5\nrouting: {{}}{blank}"
    assert with_mql_commitment(text, 7) == text.replace("per_month: 5", "per_month: 7")
    assert (
        with_mql_commitment(f"name: x{blank}", 7)
        == "name: x\n\nsla:\n  mql_commitment_per_month: 7\n"
    )


# Playbook texts as teams write them: comments, blank lines, either indentation, the SLA as a
# block or a flow mapping or left empty, the commitment given or not (with a comment or not).
_COMMENTS = st.sampled_from(["", "  # agreed", "   # both teams, Q3"])
_GAPS = st.sampled_from(["", "\n", "\n\n", "# note\n", "\n# note\n\n"])


@st.composite
def _sla(draw: st.DrawFn) -> str | None:
    form = draw(st.sampled_from(["none", "block", "flow", "empty"]))
    if form == "none":
        return None
    if form == "empty":
        return "sla:" + draw(st.sampled_from(["", " null", " ~"])) + draw(_COMMENTS) + "\n"
    entries = draw(st.permutations(["targets: []", "escalation: []", "commitment"]))
    entries = entries[: draw(st.integers(1, 3))]
    given = f"mql_commitment_per_month: {draw(st.integers(0, 999))}"
    if form == "flow":
        return "sla: {" + ", ".join(given if e == "commitment" else e for e in entries) + "}\n"
    indent = " " * draw(st.sampled_from([2, 4]))
    lines = [f"sla:{draw(_COMMENTS)}\n"]
    for entry in entries:
        text = given + draw(_COMMENTS) if entry == "commitment" else entry
        lines.append(draw(_GAPS).replace("# note", indent + "# note") + indent + text + "\n")
    return "".join(lines)


@st.composite
def _playbooks(draw: st.DrawFn) -> str:
    sla = draw(_sla())
    parts = [draw(_GAPS), "name: Demo\n", draw(_GAPS), sla or "", draw(_GAPS), "routing: {}\n"]
    text = "".join(parts) + draw(st.sampled_from(["", "\n", "\n\n"]))
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


def _data(text: str) -> Any:
    return yaml.safe_load(text)


@given(_playbooks(), st.integers(0, 100_000))
def test_only_the_commitment_changes(text: str, per_month: int) -> None:
    edited = with_mql_commitment(text, per_month)
    before, after = _data(text), _data(edited)
    assert after["sla"]["mql_commitment_per_month"] == per_month
    del after["sla"]["mql_commitment_per_month"]
    if not isinstance(before.get("sla"), dict):  # none or empty: a mapping of the one key
        assert after.pop("sla") == {}
        before.pop("sla", None)
    else:
        before["sla"].pop("mql_commitment_per_month", None)
    assert after == before
    # Everything else as written: the edit is one change in one place (the text around it
    # kept character for character), and the line endings are the text's own.
    prefix = len(_common_prefix(text, edited))
    suffix = len(_common_prefix(text[prefix:][::-1], edited[prefix:][::-1]))
    changed = text[prefix : len(text) - suffix]
    assert "\n" not in changed.strip("\r\n") or text.rstrip("\r\n") == text[:prefix], changed
    assert ("\r\n" in edited) == ("\r\n" in text)
    assert edited.count("\n") - edited.count("\r\n") in (0, edited.count("\n")), "mixed endings"


def _common_prefix(a: str, b: str) -> str:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return a[:size]
