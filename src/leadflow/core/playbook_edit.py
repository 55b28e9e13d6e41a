"""Edits of a playbook's text that keep everything else as it was written (pure).

A playbook is a document both teams write and review: its comments, blank lines, order,
quoting and line endings are theirs. An edit finds what it changes by the positions YAML's
composer marks on each node (where it starts and ends in the text) and replaces only those
characters, never a pattern over lines (which cannot tell a comment, a flow mapping or a
blank line from the value it looks for).
"""

from __future__ import annotations

import yaml

COMMITMENT = "mql_commitment_per_month"
# libyaml when PyYAML has it: the same nodes and marks (in characters), a hundred times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def with_mql_commitment(text: str, per_month: int) -> str:
    """The playbook's text with `sla.mql_commitment_per_month` set to `per_month`: its value
    replaced where it is given, else the key added to the `sla` mapping (as its first key, in
    its style), else an `sla` section appended. `text` is a playbook that parsed (a version
    installed); everything but the commitment stays as written."""
    value = str(int(per_month))
    newline = "\r\n" if "\r\n" in text else "\n"
    root = yaml.compose(text, Loader=_LOADER)
    sla = _entry(root, "sla")
    if sla is None:
        section = f"sla:{newline}  {COMMITMENT}: {value}{newline}"
        return text.rstrip("\r\n") + newline + newline + section
    key, node = sla
    if isinstance(node, yaml.MappingNode):
        given = _entry(node, COMMITMENT)
        if given is not None:
            return _replaced(text, given[1], value, at=given[0].end_mark.index + 1)
        return _added(text, node, f"{COMMITMENT}: {value}", newline)
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        # `sla:` with nothing (or null): the commitment as its mapping, on the key's line.
        return _replaced(text, node, f"{{{COMMITMENT}: {value}}}", at=key.end_mark.index + 1)
    raise ValueError(f"sla: expected a mapping, not {node.tag.rsplit(':', 1)[-1]}")


def _entry(node: yaml.Node | None, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key, value) nodes of `name` in a mapping node, if it has that key."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return key, value
    return None


def _replaced(text: str, node: yaml.Node, new: str, *, at: int | None = None) -> str:
    """`text` with the node's characters (or, for an empty node, those from `at`) replaced."""
    start, end = node.start_mark.index, node.end_mark.index
    if start == end and at is not None:  # an empty value: after the key's colon
        start = end = at
        new = " " + new
    return text[:start] + new + text[end:]


def _added(text: str, mapping: yaml.MappingNode, entry: str, newline: str) -> str:
    """`text` with `entry` added to the mapping as its first key, in its style."""
    if mapping.flow_style:  # {targets: [...]}: inside the braces
        opening = mapping.start_mark.index + 1
        return text[:opening] + entry + (", " if mapping.value else "") + text[opening:]
    first = mapping.value[0][0].start_mark  # a block mapping has a key: its own line
    column: int = first.column
    line_start: int = first.index - column
    return text[:line_start] + " " * column + entry + newline + text[line_start:]
