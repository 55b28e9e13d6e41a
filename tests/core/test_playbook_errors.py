"""An invalid playbook is refused with every problem's path in the document and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import PlaybookInvalid, parse_playbook

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
B2B = (EXAMPLES / "b2b_saas.yaml").read_text()


def problems(text: str) -> list[tuple[str, int | None, str]]:
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(text)
    return [(p.path, p.line, p.message) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(k for k, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize("name", ["b2b_saas.yaml", "b2c_chairs.yaml"])
def test_the_examples_are_valid(name: str) -> None:
    assert isinstance(parse_playbook((EXAMPLES / name).read_text()), Playbook)


def test_a_wrong_value_is_named_by_path_and_line() -> None:
    text = B2B.replace("half_life_days: 30", "half_life_days: -3")
    [(path, line, message)] = problems(text)
    assert path == "engagement.half_life_days"
    assert line == line_of(text, "half_life_days: -3")
    assert message


def test_a_misspelt_key_is_named() -> None:
    text = B2B.replace(
        "      points: 15\n      cap: 30\n      event: {type: track, name: Webinar",
        "      pionts: 15\n      cap: 30\n      event: {type: track, name: Webinar",
    )
    found = problems(text)
    assert any(
        path.endswith("pionts") and line == line_of(text, "pionts") for path, line, _ in found
    )


def test_an_over_full_tier_is_refused() -> None:
    extra = ", ".join(f"extra{k}.com" for k in range(5))
    text = B2B.replace("litware.io, proseware-ops.com]", f"litware.io, proseware-ops.com, {extra}]")
    found = problems(text)
    assert any("tiers[0]" in path and "10" in message for path, _, message in found), found


def test_duplicate_rule_ids_are_refused() -> None:
    text = B2B.replace("id: webinar", "id: content_download")
    found = problems(text)
    assert any("content_download" in message for _, _, message in found), found


def test_broken_yaml_names_its_line() -> None:
    text = B2B.replace("fit:\n  rules:", "fit:\n  rules: [unclosed", 1)
    [(_, line, message)] = problems(text)
    assert line is not None and line >= line_of(text, "rules: [unclosed")
    assert message


@pytest.mark.parametrize(
    ("broken", "line", "said"),
    [
        # An unquoted value holding ': '.
        ("name: Flowline: B2B\n", 1, "at column 15: mapping values are not allowed here"),
        # A key indented deeper than its neighbours, inside a list.
        ("name: x\nfit:\n  rules:\n    - id: a\n     points: 5\n", 5, "at column 6: expected"),
        # A tab where YAML wants spaces.
        ("name: x\nfit:\n\trules: []\n", 3, "at column 1: a tab"),
        # A quote never closed: the end of the file is where YAML notices.
        ('name: "Flowline\n', 2, "the quoted text that starts at line 1, column 7"),
        # A character YAML does not read at all.
        ("name: x\ndescription: a\x07b\n", 2, "at column 15: unacceptable character #x0007"),
    ],
)
def test_broken_yaml_is_one_line_with_its_column(broken: str, line: int, said: str) -> None:
    """PyYAML's message is several lines with a snippet and `in "<unicode string>"`; a
    playbook's problem is one line: where (line, column) and what is wrong, in words."""
    [(path, found_line, message)] = problems(broken)
    assert (path, found_line) == ("", line)
    assert message.startswith("not valid YAML")
    assert said in message, message
    assert "\n" not in message and "<unicode string>" not in message, message
    assert "<block" not in message and "^" not in message, message


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2027-13-45", "'2027-13-45' is not a date (month must be in 1..12)"),
        ("2027-02-30", "'2027-02-30' is not a date (day is out of range for month)"),
        ("!!float abc", "'abc' is not a number"),
        ("!!int 0x", "'0x' is not a whole number"),
        ("1" * 5000, "has too many digits"),
    ],
)
def test_a_value_yaml_cannot_read_is_named_by_path_and_line(value: str, why: str) -> None:
    """A scalar that YAML types but cannot build (a date with month 13) is a problem at its
    line, not an error escaping the parser."""
    text = B2B.replace("half_life_days: 30", f"half_life_days: {value}")
    [(path, line, message)] = problems(text)
    assert path == "engagement.half_life_days"
    assert line == line_of(text, "half_life_days: ")
    assert why in message


def test_a_value_yaml_cannot_read_is_found_once_among_aliases() -> None:
    """Each node is looked at once: 12 lines of aliases stand for 9**12 values."""
    lines = ["name: laughs", "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 12)]
    [(path, line, message)] = problems("\n".join([*lines, "at: 2027-13-45"]))
    assert (path, line) == ("at", 14) and "is not a date" in message


SENIOR = next(line for line in B2B.splitlines(keepends=True) if "when: {field: title" in line)


def test_aliases_that_stand_for_too_many_values_are_refused_where_they_grow() -> None:
    """Aliases are shared when YAML reads them, but validating the playbook (and scoring
    with it) visits each use: 6 lines of aliases of conditions took 5 s to check, each line
    more nine times as long, through the API's validate and the editor's check."""
    lines = ["x-c0: &c0 {field: title, equals: x}"]
    lines += [f"x-c{k}: &c{k} {{all: [{', '.join([f'*c{k - 1}'] * 9)}]}}" for k in range(1, 12)]
    assert SENIOR in B2B
    text = "\n".join(lines) + "\n" + B2B.replace(SENIOR, "      when: {all: [*c11]}\n", 1)
    [(path, line, message)] = problems(text)
    assert (path, line) == ("fit.rules[0].when.all", line_of(text, "when: {all: [*c11]}"))
    assert message == (
        "aliases repeat this into over 1,000,000 values, more than a playbook of "
        "1,000,000 characters holds written out"
    )


def test_an_alias_within_itself_is_refused() -> None:
    [(path, line, message)] = problems("name: loop\nx: &x {all: [*x]}\n")
    assert (path, line) == ("x", 2)
    assert message == "an alias within its own anchor repeats it without end"


def test_a_few_aliases_read_as_written_out() -> None:
    text = B2B.replace(SENIOR, SENIOR.replace("when: {", "when: &senior {"), 1)
    text = text.replace('- {field: title, regex: "(?i)\\\\bmanager\\\\b"}', "- not: *senior", 1)
    assert "not: *senior" in text
    rules = {rule.id: rule for rule in parse_playbook(text).fit.rules}
    assert rules["title_manager"].when.all_[0].not_ == rules["title_senior"].when


def test_a_key_given_twice_is_named_where_it_is_given_again() -> None:
    """YAML keeps the last of two equal keys: a second `grade:` section silently replaced
    the first, and a rule's second `points:` its first, and the playbook was valid."""
    text = B2B + "grade:\n  fit: {A: 50, B: 30, C: 15}\n  engagement: {1: 40, 2: 20, 3: 10}\n"
    text = text.replace("  half_life_days: 30\n", "  half_life_days: 30\n  half_life_days: 7\n")
    first, again = [k for k, line in enumerate(text.splitlines(), start=1) if line == "grade:"]
    assert problems(text) == [
        ("engagement.half_life_days", line_of(text, "half_life_days: 7"),
         f"given twice: the one at line {line_of(text, 'half_life_days: 30')} would be lost"),
        ("grade", again, f"given twice: the one at line {first} would be lost"),
    ]  # fmt: skip


def test_a_stored_playbook_with_a_key_given_twice_still_loads() -> None:
    """A version stored before keys given twice were refused keeps running, as it read."""
    text = B2B.replace("  half_life_days: 30\n", "  half_life_days: 30\n  half_life_days: 7\n")
    assert parse_playbook(text, declared=False).engagement.half_life_days == 7


def test_a_bad_regex_is_refused() -> None:
    text = B2B.replace('regex: "^/pricing"', 'regex: "^/pricing(("')
    found = problems(text)
    assert any("regex" in path or "regex" in message.lower() for path, _, message in found), found


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("id: webinar", "id: content_download", "engagement.rules[4].id"),
        ("id: title_manager", "id: title_senior", "fit.rules[1].id"),
        ("id: it_manager", "id: ops_leader", "personas[1].id"),
        ("id: target", "id: top", "tiers[1].id"),
    ],
)
def test_an_id_used_twice_is_named_where_it_is_used_again(old: str, new: str, path: str) -> None:
    text = B2B.replace(old, new)
    [(where, line, message)] = problems(text)
    assert "is used twice" in message
    assert (where, line) == (path, line_of(B2B, old))


def test_a_domain_two_tiers_list_is_named_where_it_is_listed_again() -> None:
    text = B2B.replace("domains: [alpine-works.com,", "domains: [LITWARE.io, alpine-works.com,")
    [(where, line, message)] = problems(text)
    assert message == "litware.io is in tiers 'top' and 'target'"
    assert (where, line) == ("tiers[1].domains[0]", line_of(text, "LITWARE.io"))


@pytest.mark.parametrize(
    ("old", "new", "path", "said"),
    [
        (
            'where: {field: properties.path, regex: "^/pricing"}',
            'where: {field: property.path, regex: "^/pricing"}',
            "engagement.rules[1].event.where.field",
            "unknown event field 'property.path': did you mean 'properties.path'?",
        ),
        (
            'where: {field: properties.path, regex: "^/careers"}',
            'where: {field: path, regex: "^/careers"}',
            "engagement.rules[10].event.where.field",
            "unknown event field 'path': did you mean 'properties.path'?",
        ),
        (
            "stage: sql\n      event: {type: track, name: Demo Requested}",
            "stage: sql\n      event: {type: trak, name: Demo Requested}",
            "lifecycle.hand_raisers[0].event.type[0]",
            "unknown event type 'trak': one of identify, track, page, screen, group, alias",
        ),
    ],
)
def test_an_event_matcher_reading_what_no_event_has_is_refused_at_its_line(
    old: str, new: str, path: str, said: str
) -> None:
    """A rule on `property.path` or of type `trak` would never count an event: a typo."""
    assert B2B.count(old) == 1
    text = B2B.replace(old, new)
    [(where, line, message)] = problems(text)
    assert (where, line, message) == (path, line_of(text, new.split("\n")[-1].strip()), said)


def test_an_event_matcher_may_read_its_own_fields() -> None:
    text = B2B.replace(
        'where: {field: properties.path, regex: "^/pricing"}',
        "where: {all: [{field: context.page.url, exists: true}, {field: name, exists: false},"
        " {field: properties, exists: true}]}",
    )
    assert isinstance(parse_playbook(text), Playbook)


def test_an_sla_target_no_hand_off_could_count_to_is_refused_at_its_line() -> None:
    # Before: `minutes: .inf` (or 1e300) was accepted, and every hand-off to that stage then
    # failed computing its deadline. A target is at most a year of working minutes.
    for written in (".inf", "1.0e+300", "525601"):
        text = B2B.replace("{stage: sql, minutes: 240}", f"{{stage: sql, minutes: {written}}}")
        [(path, line, message)] = problems(text)
        assert path == "sla.targets[1].minutes"
        assert line == line_of(text, f"minutes: {written}")
        assert message
    text = B2B.replace(
        "{after_minutes: 30, action: manager}", "{after_minutes: .nan, action: manager}"
    )
    [(path, _, _)] = problems(text)
    assert path == "sla.escalation[1].after_minutes"
    year = B2B.replace("{stage: sql, minutes: 240}", "{stage: sql, minutes: 525600}")
    assert parse_playbook(year).sla.targets[1].minutes == 525600
    stored = B2B.replace("{stage: sql, minutes: 240}", "{stage: sql, minutes: 600000}")
    assert parse_playbook(stored, declared=False).sla.targets[1].minutes == 600000  # as written
