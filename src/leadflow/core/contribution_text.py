"""A lead's stored contributions as JSON text, its engagement entries replaced: what the decay
refresh writes when only the engagement points moved (`services/decay_refresh.py`), made from
the stored text instead of parsing and dumping every lead's entries."""

from __future__ import annotations

import json
from collections.abc import Sequence

from leadflow.core.bulk_columns import FloatArray, IntArray
from leadflow.core.playbook import Playbook

ENGAGEMENT = '"kind": "engagement"'
ENTRY = '{"rule": '
KIND = '"kind": "'


def with_engagement(
    playbook: Playbook, points: FloatArray, counts: IntArray, texts: Sequence[str | None]
) -> list[str]:
    """Each lead's stored fit entries, then its engagement entries as they are now (`points`
    and the events each rule counted, `counts`: lead x rule, from which its why is told
    when shown; which events, by id, only live scoring keeps)."""
    heads = [
        f'{ENTRY}{json.dumps(r.id)}, "label": {json.dumps(r.label)}, {ENGAGEMENT}, "points": '
        for r in playbook.engagement.rules
    ]
    out = []
    for row, counted, text in zip(points.tolist(), counts.tolist(), texts, strict=True):
        fit = fit_part(text or "[]")
        if fit is None:  # not the layout every writer stores: the slow and sure way
            kept = [e for e in json.loads(text or "[]") if e.get("kind") != "engagement"]
            fit = json.dumps(kept)[1:-1]
        entries = [
            f'{heads[r]}{p!r}, "event_count": {n}}}'
            for r, (p, n) in enumerate(zip(row, counted, strict=True))
            if p
        ]
        out.append("[" + ", ".join([fit, *entries] if fit else entries) + "]")
    return out


def fit_part(text: str) -> str | None:
    """The text of the entries before the first engagement entry, when every entry after it
    is an engagement entry (what every writer stores: fit first); None otherwise. A quote
    inside a JSON string is escaped, so these markers only ever match the entries' own keys."""
    found = text.find(ENGAGEMENT)
    if found < 0:
        return text.strip()[1:-1].strip()
    start = text.rfind(ENTRY, 0, found)
    rest = text[start:]
    if start < 0 or rest.count(KIND) != rest.count(ENGAGEMENT):
        return None
    return text[:start].strip()[1:].rstrip().removesuffix(",").rstrip()
