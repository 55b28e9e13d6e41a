"""Conditions over facts: equals, in, range, regex, exists, comparisons, and/or/not.

A condition reads values by dotted path from a plain mapping, so the same language serves
fit rules (lead and account facts), event matchers (event properties) and stage criteria
(scores and grades).

A `regex` is written in Python's syntax and run by RE2, whose time grows with the text, never
exponentially: the values it reads come from clients holding the public write key, and a
pattern that backtracks (`^(a|aa)+$`) would let one crafted title hold a tracking call, and
every writer behind it, for hours. RE2 has no lookarounds or backreferences (the constructs
that need backtracking): a playbook using them is refused with what to write instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Self

import re2
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from leadflow.core import amounts

_MISSING = object()

LEAF_OPERATORS = ("equals", "in_", "not_in", "range", "regex", "exists", "gte", "gt", "lte", "lt")
GROUP_OPERATORS = ("all_", "any_", "not_")


class Condition(BaseModel):
    """One test on a fact (`field` plus one operator), or a group of conditions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    all_: list[Condition] | None = Field(None, alias="all", description="All must hold.")
    any_: list[Condition] | None = Field(None, alias="any", description="At least one holds.")
    not_: Condition | None = Field(None, alias="not", description="Must not hold.")
    field: str | None = Field(None, description="Dotted path, e.g. `title`, `account.employees`.")
    equals: str | int | float | bool | None = Field(None, description="Equal (text: any case).")
    in_: list[str | int | float] | None = Field(None, alias="in", description="One of these.")
    not_in: list[str | int | float] | None = Field(None, description="None of these.")
    range: tuple[float | None, float | None] | None = Field(
        None, description="Inclusive [min, max]; null for an open end."
    )
    regex: str | None = Field(None, description="Python regular expression, searched.")
    exists: bool | None = Field(None, description="The fact is present and not empty.")
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _one_form(self, info: ValidationInfo) -> Self:
        groups = [name for name in GROUP_OPERATORS if getattr(self, name) is not None]
        leaves = [name for name in LEAF_OPERATORS if name in self.model_fields_set]
        if groups and (leaves or self.field is not None):
            raise ValueError("a condition is either a group (all/any/not) or a field test")
        if len(groups) > 1:
            raise ValueError("use one of all/any/not per condition; nest them to combine")
        if groups:
            return self
        if self.field is None:
            raise ValueError("a field test needs `field` (or use all/any/not)")
        if len(leaves) != 1:
            names = ", ".join(n.rstrip("_") for n in LEAF_OPERATORS)
            raise ValueError(f"a field test needs exactly one operator of: {names}")
        if self.regex is not None:
            _checked(self.regex, stored=bool(info.context and info.context.get(STORED)))
        return self

    def fields(self) -> set[str]:
        """Every fact path this condition reads."""
        found = {self.field} if self.field else set()
        for child in [*(self.all_ or []), *(self.any_ or []), *([self.not_] if self.not_ else [])]:
            found |= child.fields()
        return found


def lookup(facts: Mapping[str, Any], path: str) -> Any:
    """Read a dotted path; a flat key with dots wins over nesting. Missing -> _MISSING."""
    if path in facts:
        return facts[path]
    current: Any = facts
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


# The validation context of a playbook version stored before: it keeps running as written.
STORED = "stored"
_RE2 = re2.Options()
_RE2.log_errors = False  # a refused pattern is told to the playbook's author, not to stderr
_RE2.never_capture = True  # a condition asks only whether the pattern occurs
_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
_NOWHERE = (-1, -1)


class _Linear:
    """A pattern on RE2, asked only whether it occurs in a text: through the engine itself
    (the wrapper's `search` builds a match object and maps its byte offsets back to
    characters, ten times what the search costs on a job title)."""

    __slots__ = ("_regexp",)

    def __init__(self, pattern: str) -> None:
        self._regexp = re2._re2.RE2(pattern.encode(), _RE2)
        if not self._regexp.ok():
            raise re2.error(self._regexp.error())

    def search(self, text: str) -> bool:
        encoded = text.encode("utf-8", "surrogatepass")
        return bool(self._regexp.Match(_UNANCHORED, encoded, 0, len(encoded))[0] != _NOWHERE)


def _checked(pattern: str, *, stored: bool) -> None:
    """ValueError unless RE2 runs the pattern (or, `stored`: a version installed before
    regexes ran on RE2, Python's engine does)."""
    try:
        compiled = _compiled(pattern)  # what evaluating it will use, compiled once
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from exc
    if isinstance(compiled, _Linear) or stored:
        return
    raise ValueError(
        f"regex {_as_written(pattern)} is not supported ({_refusal(pattern)}): lookarounds "
        "((?=, (?!, (?<=, (?<!) and backreferences (\\1) can take exponential time on a "
        "crafted value, so conditions run on an engine without them; test the other part "
        "in a condition of its own (`not:` for a negative lookaround), and use \\z for "
        "the end of the text"
    )


def _refusal(pattern: str) -> str:
    """Why RE2 refuses the pattern, in its words."""
    error = re2._re2.RE2(pattern.encode(), _RE2).error()
    return error.decode() if isinstance(error, bytes) else str(error)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    """The pattern on RE2; Python's engine only for one RE2 refuses, which only a version
    stored before could hold (a new playbook with it is refused: `_checked`)."""
    try:
        return _Linear(pattern)
    except re2.error:
        return re.compile(pattern)


def as_number(value: Any) -> float | None:
    """The value as a finite number, or None: a flag, text that is no number, or a number
    beyond any float (a 400-digit integer in a trait is no budget, and must not crash)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = amounts.number(value) if isinstance(value, str) else float(value)
    except OverflowError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    left_number, right_number = as_number(left), as_number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    return bool(left == right)


def among(value: Any, options: Sequence[str | int | float]) -> bool:
    """Whether the value is the same as one of the options (`_same`). A text among options
    that are all text is looked up case-folded: a fit rule's list is tested against every
    distinct e-mail domain or title of a bulk re-score, about a million comparisons."""
    if isinstance(value, str) and (folded := _folded(tuple(options))) is not None:
        return value.casefold() in folded
    return any(_same(value, option) for option in options)


@lru_cache(maxsize=1024)
def _folded(options: tuple[str | int | float, ...]) -> frozenset[str] | None:
    """The options case-folded when all are text (a text equals a text by its case-folded
    form, `_same`); None when one is a number, which a text may equal as a number."""
    if not all(isinstance(option, str) for option in options):
        return None
    return frozenset(option.casefold() for option in options if isinstance(option, str))


def _is_present(value: Any) -> bool:
    return value is not _MISSING and value is not None and value != "" and value != []


def _test_leaf(condition: Condition, value: Any) -> bool:
    if "exists" in condition.model_fields_set:
        return _is_present(value) is bool(condition.exists)
    if not _is_present(value):
        return False
    if "equals" in condition.model_fields_set:
        return _same(value, condition.equals)
    if condition.in_ is not None:
        return among(value, condition.in_)
    if condition.not_in is not None:
        return not among(value, condition.not_in)
    if condition.regex is not None:
        return bool(_compiled(condition.regex).search(str(value)))
    number = as_number(value)
    if number is None:
        return False
    if condition.range is not None:
        low, high = condition.range
        return (low is None or number >= low) and (high is None or number <= high)
    checks = (
        (condition.gte, number.__ge__),
        (condition.gt, number.__gt__),
        (condition.lte, number.__le__),
        (condition.lt, number.__lt__),
    )
    return all(bound is None or compare(bound) for bound, compare in checks)


def evaluate(condition: Condition, facts: Mapping[str, Any]) -> bool:
    """True when the condition holds on these facts."""
    if condition.all_ is not None:
        return all(evaluate(child, facts) for child in condition.all_)
    if condition.any_ is not None:
        return any(evaluate(child, facts) for child in condition.any_)
    if condition.not_ is not None:
        return not evaluate(condition.not_, facts)
    assert condition.field is not None  # guaranteed by the validator
    return _test_leaf(condition, lookup(facts, condition.field))


def fields_of(condition: Condition) -> set[str]:
    """Every field path the condition reads."""
    children = [*(condition.all_ or ()), *(condition.any_ or ())]
    if condition.not_ is not None:
        children.append(condition.not_)
    found = {condition.field} if condition.field is not None else set()
    for child in children:
        found |= fields_of(child)
    return found


def describe(condition: Condition) -> str:
    """A short human reading of the condition, for explanations."""
    if condition.all_ is not None:
        return " and ".join(f"({describe(c)})" for c in condition.all_)
    if condition.any_ is not None:
        return " or ".join(f"({describe(c)})" for c in condition.any_)
    if condition.not_ is not None:
        return f"not ({describe(condition.not_)})"
    for name in LEAF_OPERATORS:
        if name in condition.model_fields_set:
            return f"{condition.field} {name.rstrip('_')} {_as_written(getattr(condition, name))}"
    return str(condition.field)


def _as_written(value: Any) -> str:
    """A condition's value quoted as the playbook writes it: Python's form of the value, one
    line (a line break shows as \\n), its backslashes single (a regex's \\b, not \\\\b)."""
    return repr(value).replace("\\\\", "\\")
