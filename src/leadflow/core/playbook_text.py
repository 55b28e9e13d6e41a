"""Reading a playbook from YAML text, with every error located by path and line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from leadflow.core.conditions import STORED
from leadflow.core.errors import Invalid
from leadflow.core.facts import undeclared, unknown_fields
from leadflow.core.playbook import (
    UNIQUE_IDS,
    Playbook,
    in_two_tiers,
    repeated_id,
    tier_domain,
)


@dataclass(frozen=True, slots=True)
class PlaybookProblem:
    """One thing wrong in a playbook: where (path and line) and what."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.path or '(top)'}: {self.message}"


class PlaybookInvalid(Invalid):
    """The playbook does not validate; carries every problem found."""

    def __init__(self, problems: list[PlaybookProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def content_hash(text: str) -> str:
    """A stable identity for a playbook's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:  # a missing key: point at its parent mapping
                return line
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
        else:
            continue  # a union branch name in the loc, not a document key
        line = node.start_mark.line + 1
    return line


def _repeats(data: Mapping[str, Any]) -> dict[str, tuple[int | str, ...]]:
    """Where each id used twice is used again, and each domain two tiers list is listed
    again, keyed by what the playbook's check says of it (`core.playbook.repeated_id`,
    `in_two_tiers`): a check of the whole document names no place, and the line to fix is
    the second use, not the top of the file."""
    found: dict[str, tuple[int | str, ...]] = {}
    for kind, lists in UNIQUE_IDS:
        seen: set[str] = set()
        for path in lists:
            items: Any = data
            for key in path:
                items = items.get(key) if isinstance(items, Mapping) else None
            for index, item in enumerate(items if isinstance(items, list) else []):
                ident = item.get("id") if isinstance(item, Mapping) else None
                if isinstance(ident, str) and ident in seen:
                    found.setdefault(repeated_id(kind, ident), (*path, index, "id"))
                elif isinstance(ident, str):
                    seen.add(ident)
    owners: dict[str, str] = {}
    tiers = data.get("tiers")
    for index, tier in enumerate(tiers if isinstance(tiers, list) else []):
        domains = tier.get("domains") if isinstance(tier, Mapping) else None
        for k, domain in enumerate(domains if isinstance(domains, list) else []):
            if not isinstance(domain, str):
                continue
            folded = tier_domain(domain)
            if folded in owners:
                message = in_two_tiers(folded, owners[folded], str(tier.get("id")))
                found.setdefault(message, ("tiers", index, "domains", k))
            else:
                owners[folded] = str(tier.get("id"))
    return found


def _readable_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic adds model names for union/recursive branches; keep only document keys.
    return tuple(p for p in loc if isinstance(p, int) or not p[:1].isupper())


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_KINDS = {
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
}


Located = tuple[yaml.Node, tuple[int | str, ...]]  # a node and its path in the document


def _nodes(root: yaml.Node | None) -> Iterator[Located]:
    """Every node under `root` with its path, in document order; walked without recursion,
    and each node once (an alias repeats a node: a few lines of aliases can stand for
    billions of nodes)."""
    pending: list[Located] = [(root, ())] if root else []
    seen: set[int] = set()
    while pending:
        node, loc = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node, loc
        if isinstance(node, yaml.MappingNode):
            pending.extend(reversed([(v, (*loc, str(k.value))) for k, v in node.value]))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(reversed([(v, (*loc, k)) for k, v in enumerate(node.value)]))


def _unbuildable(root: yaml.Node | None) -> PlaybookProblem | None:
    """The first value YAML types but cannot build (month 13, `!!int 0x`, an integer of
    thousands of digits), at its path and line."""
    for node, loc in _nodes(root):
        if not isinstance(node, yaml.ScalarNode):
            continue
        try:
            yaml.constructor.SafeConstructor().construct_object(node)
        except (ValueError, OverflowError) as exc:
            shown = repr(node.value if len(node.value) <= 40 else f"{node.value[:40]}...")
            kind = _KINDS.get(node.tag, "a value YAML can read")
            if str(exc).startswith("Exceeds the limit"):  # int() refuses 4,300+ digits
                why = f"{shown} has too many digits"
            elif kind == "a date":
                why = f"{shown} is not a date ({exc})"
            else:
                why = f"{shown} is not {kind}"
            return PlaybookProblem(_path(loc), node.start_mark.line + 1, why)
    return None


def _keys_given_twice(root: yaml.Node | None) -> list[PlaybookProblem]:
    """Each key a mapping gives again, at the line it is given again: YAML keeps the last
    and drops the other without a word (a second `grade:` section)."""
    found: list[PlaybookProblem] = []
    for node, loc in _nodes(root):
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.value == "<<":  # a merge
                continue
            line = key.start_mark.line + 1
            if key.value in first:
                why = f"given twice: the one at line {first[key.value]} would be lost"
                found.append(PlaybookProblem(_path((*loc, key.value)), line, why))
            else:
                first[key.value] = line
    return sorted(found, key=lambda problem: problem.line or 0)


# PyYAML's words for what it expected or found, in a playbook writer's words.
_TOKENS = {
    "<block end>": "the end of the indented block",
    "'<block mapping start>'": "a key indented differently",
    "'<block sequence start>'": "a list item indented differently",
    "'<block end>'": "the end of the indented block",
    "'<scalar>'": "more text",
    "'<stream end>'": "the end of the file",
    "'?'": "a key",
    "end of stream": "end of the file",
}
_CONTEXTS = {
    "block collection": "list",
    "block mapping": "mapping",
    "flow sequence": "[...] list",
    "flow mapping": "{...} mapping",
    "quoted scalar": "quoted text",
    "block scalar": "block of text",
    "simple key": "key",
}
_HINTS = {
    "mapping values are not allowed here": (
        "quote a value that holds ': ', or check the indentation"
    ),
    "expected <block end>": "check the indentation",
}


def broken_yaml(text: str, exc: yaml.YAMLError) -> PlaybookProblem:
    """A YAML syntax error as one line: its line and column, what is wrong in words, where
    the construct it broke starts, and a hint for the usual causes (PyYAML's own message is
    several lines with a snippet and `in "<unicode string>"`)."""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not read
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        why = f"unacceptable character #x{exc.character:04x} ({exc.reason})"
        return PlaybookProblem("", line, f"not valid YAML at column {column}: {why}")
    if not isinstance(exc, yaml.MarkedYAMLError):
        return PlaybookProblem("", None, "not valid YAML: " + " ".join(str(exc).split()))
    problem = exc.problem or "cannot be read"
    hint = next((why for start, why in _HINTS.items() if problem.startswith(start)), None)
    if "'\\t' that cannot start any token" in problem:
        problem, hint = "a tab: YAML indents with spaces, not tabs", None
    for token, words in _TOKENS.items():
        problem = problem.replace(token, words)
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return PlaybookProblem("", None, f"not valid YAML: {problem}")
    message = f"not valid YAML at column {mark.column + 1}: {problem}"
    context, at = exc.context or "", exc.context_mark
    what = context.removeprefix("while parsing a ").removeprefix("while scanning a ")
    if at is not None and what != context:
        where = f"line {at.line + 1}, column {at.column + 1}"
        message += f", in the {_CONTEXTS.get(what, what)} that starts at {where}"
    return PlaybookProblem("", mark.line + 1, message + (f" ({hint})" if hint else ""))


# The values (scalars, lists, mappings, keys) a playbook may stand for once its aliases are
# repeated: no more than the longest playbook taken (the API's and the editor's limit) holds
# written out, a character a value at most (`{a,b}`), so no playbook without aliases is
# refused. Aliases are shared when YAML reads them, but the check and scoring visit each
# use: nine-fold aliases a few lines deep stand for billions of values.
MAX_PLAYBOOK_TEXT = 1_000_000  # characters of YAML the API takes


class _Endless(Exception):
    """An alias within its own anchor: the node that repeats itself."""

    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _sizes(root: yaml.Node, limit: int) -> dict[int, int]:
    """Each node's count of values (itself, keys and values under it) with aliases repeated,
    by id, counted once per node however often it is used; _Endless on a cycle."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, done = pending.pop()
        if not done and id(node) in sizes:  # an alias met again: counted once
            continue
        children = _children(node)
        if done:
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), limit + 1)
            open_nodes.discard(id(node))
            continue
        if id(node) in open_nodes:
            raise _Endless(node)
        open_nodes.add(id(node))
        pending.append((node, True))
        pending.extend((c, False) for c in children if id(c) not in sizes)
    return sizes


def _too_many_values(root: yaml.Node | None, length: int) -> PlaybookProblem | None:
    """Where aliases make the playbook stand for more values than its text (at least
    MAX_PLAYBOOK_TEXT characters) could hold written out: the deepest node over it, at its path and
    line; or the alias within its own anchor."""
    if root is None:
        return None
    limit = max(length, MAX_PLAYBOOK_TEXT)
    try:
        sizes = _sizes(root, limit)
    except _Endless as endless:
        where = next((loc for node, loc in _nodes(root) if node is endless.node), ())
        return PlaybookProblem(_path(where), endless.node.start_mark.line + 1,
                               "an alias within its own anchor repeats it without end")  # fmt: skip
    if sizes[id(root)] <= limit:
        return None
    node, loc = next(
        (node, loc) for node, loc in reversed(list(_nodes(root))) if sizes[id(node)] > limit
    )
    why = (f"aliases repeat this into over {limit:,} values, more than a playbook of "
           f"{limit:,} characters holds written out")  # fmt: skip
    return PlaybookProblem(_path(loc), node.start_mark.line + 1, why)


TOO_DEEP = "nested too deeply: a playbook is a few levels of sections, lists and mappings"


def parse_playbook(text: str, *, declared: bool = True) -> Playbook:
    """Validate YAML text into a Playbook, or raise PlaybookInvalid naming each problem.

    With `declared` (every new playbook) a field that no fact supplies is a problem at its
    line; without it (a version stored before custom attributes were declared) the custom
    attributes it reads are taken as declared, and a regex only a backtracking engine runs
    (stored before regexes ran on RE2) runs on Python's, so the running system keeps its
    playbook.
    """
    try:
        node = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlaybookInvalid([broken_yaml(text, exc)]) from None
    except RecursionError:
        # PyYAML builds nodes recursively: thousands of nested levels exhaust the stack.
        raise PlaybookInvalid([PlaybookProblem("", None, TOO_DEEP)]) from None
    except (ValueError, OverflowError) as exc:  # a value typed but not built: 2027-13-45
        found = _unbuildable(yaml.compose(text)) or PlaybookProblem(
            "", None, f"not valid YAML: {exc}"
        )
        raise PlaybookInvalid([found]) from None
    if too_many := _too_many_values(node, len(text)):
        raise PlaybookInvalid([too_many])
    if not isinstance(data, dict):
        raise PlaybookInvalid([PlaybookProblem("", 1, "a playbook is a mapping of sections")])
    if declared and (repeated := _keys_given_twice(node)):
        raise PlaybookInvalid(repeated)
    try:
        book = Playbook.model_validate(data, context=None if declared else {STORED: True})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = _readable_loc(tuple(error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            if not loc:  # a check of the whole document: what is used twice says where
                loc = _repeats(data).get(message, loc)
            problems.append(PlaybookProblem(_path(loc), _line_of(node, loc), message))
        raise PlaybookInvalid(problems) from exc
    if not declared:
        return with_undeclared(book)
    unknown = unknown_fields(book)
    if unknown:
        problems = [PlaybookProblem(_path(loc), _line_of(node, loc), why) for loc, why in unknown]
        lead, account = undeclared(book)
        wanted = [f"custom_fields: [{', '.join(lead)}]"] if lead else []
        wanted += [f"account_custom_fields: [{', '.join(account)}]"] if account else []
        if wanted:
            message = "declare the custom attributes this playbook reads: " + "; ".join(wanted)
            problems.append(PlaybookProblem("", 1, message))
        raise PlaybookInvalid(problems)
    return book


def declaring_what_it_reads(document: dict[str, Any]) -> dict[str, Any]:
    """A playbook document (a generated one) with the custom attributes it reads declared,
    placed after its name and description."""
    book = with_undeclared(Playbook.model_validate(document))
    front: dict[str, Any] = {k: document[k] for k in ("name", "description") if k in document}
    declared: dict[str, Any] = {
        "custom_fields": book.custom_fields,
        "account_custom_fields": book.account_custom_fields,
    }
    rest = {k: v for k, v in document.items() if k not in front and k not in declared}
    return {**front, **{k: v for k, v in declared.items() if v}, **rest}


def with_undeclared(book: Playbook) -> Playbook:
    """The playbook with the custom attributes it reads added to its declarations."""
    lead, account = undeclared(book)
    if not lead and not account:
        return book
    return book.model_copy(
        update={
            "custom_fields": [*book.custom_fields, *lead],
            "account_custom_fields": [*book.account_custom_fields, *account],
        }
    )
