"""A lead's stored contributions as JSON text, its engagement entries replaced: what the decay
refresh writes when only the engagement points moved (`services/decay_refresh.py`), made from
the stored text instead of parsing and dumping every lead's entries."""

from __future__ import annotations

import json
from collections.abc import Sequence

from leadflow.core.bulk_columns import FloatArray, IntArray
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import at_cap, engagement_detail

ENGAGEMENT = '"kind": "engagement"'
ENTRY = '{"rule": '
KIND = '"kind": "'


def with_engagement(
    playbook: Playbook, points: FloatArray, counts: IntArray, texts: Sequence[str | None]
) -> list[str]:
    """Each lead's stored fit entries, then its engagement entries as they are now (`points`
    and the events each rule counted, `counts`: lead x rule), with the keys live scoring
    stores, in its order (which events, by id, only live scoring keeps)."""
    rules = playbook.engagement.rules
    heads = [
        f'{ENTRY}{json.dumps(r.id)}, "label": {json.dumps(r.label)}, {ENGAGEMENT}, "points": '
        for r in rules
    ]
    tails: dict[tuple[int, int, bool], str] = {}  # what follows the points, made once each

    def tail(r: int, p: float, n: int) -> str:
        key = (r, n, at_cap(rules[r], p))
        if key not in tails:
            why = json.dumps(engagement_detail(playbook, rules[r], n, p))
            tails[key] = f', "detail": {why}, "events": [], "event_count": {n}}}'
        return tails[key]

    out = []
    for row, counted, text in zip(points.tolist(), counts.tolist(), texts, strict=True):
        fit = fit_part(text or "[]")
        if fit is None:  # not the layout every writer stores: the slow and sure way
            kept = [e for e in json.loads(text or "[]") if e.get("kind") != "engagement"]
            fit = json.dumps(kept)[1:-1]
        entries = [
            heads[r] + repr(p) + tail(r, p, n)
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
