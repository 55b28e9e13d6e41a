"""An event's kind: one integer for what engagement matching usually reads of it.

Matching reads an event's type, its name and the `where` fields of the rules; by far the most
common `where` field is the page path. `kind_of` digests (type, name, properties.path) into a
63-bit integer stored with the event, so a bulk re-score reads three integers per event
(lead, time, kind) and evaluates each distinct kind once, on one event of that kind, instead
of parsing ten million JSON documents. Rules that read other fields take the general path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any

KIND_PATHS = frozenset({"properties.path"})  # the `where` fields a kind tells apart


def kind_of(type_: str, name: str | None, properties: Any) -> int:
    """The kind of an event: equal for events that every condition on its kind reads alike.

    A missing path and a null one share a kind (conditions read them alike); 1, 1.0, true and
    "1" do not (conditions tell them apart). 64 bits of BLAKE2b, made non-negative to fit a
    signed BIGINT: a collision between two kinds in use is a 2**-40 chance at a million kinds.
    """
    path = properties.get("path") if isinstance(properties, Mapping) else None
    # json.dumps([type_, name, path], sort_keys=True, separators=(",", ":"),
    # ensure_ascii=False), by parts: this runs for every event stored.
    text = "[" + _json(type_) + "," + _json(name) + "," + _json(path) + "]"
    digest = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


_ESCAPED = re.compile(r'[\x00-\x1f"\\]')  # what json.dumps escapes when ensure_ascii=False


def _json(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`."""
    if value is None:
        return "null"
    if type(value) is str and not _ESCAPED.search(value):
        return '"' + value + '"'
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def covered(paths: Iterable[str]) -> bool:
    """True when kinds tell apart every event that conditions on these `where` paths do."""
    return set(paths) <= KIND_PATHS


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def occurred_micros(moment: datetime) -> int:
    """Microseconds since 1970 (UTC; a naive moment is taken to be UTC), exactly."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)
