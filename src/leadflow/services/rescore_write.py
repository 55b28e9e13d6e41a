"""Scores back in after a re-score: only the leads whose stored score changed.

Each lead's contributions are built as JSON text column-wise (Arrow), compared with what it
has stored, and only the leads that differ in any stored value are written; every other lead
just gets `scored_at` (one statement for a full re-score). Writing a million rows is what a
full re-score costs most, and most of a nightly re-score's leads have not changed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core import bulk
from leadflow.core.bulk_columns import BoolArray, FloatArray
from leadflow.repositories import rescoring
from leadflow.services.rescore_leads import LeadRows, StoredScores


def contributions_json(scores: bulk.BulkScores) -> Any:
    """Each lead's contributions as JSON text, `[{"rule", "label", "kind", "points"}, ...]`,
    an engagement entry with `"event_count"` (how many events its rule counted: its why is
    told from it when shown; which events, by id, only live scoring keeps), as an Arrow
    string array. Points are hundredths and counts small, so each rule gives few distinct
    pairs: each entry's text is formatted once, in the forms its place in a list takes (after
    `[` or not, before `]` or `, `), then gathered in order by Arrow, and each lead's text is
    the run of its entries in what was gathered (no join copies the texts again)."""
    import pyarrow as pa

    size, width = scores.points.shape
    counts = scores.counts if scores.counts is not None else np.zeros((size, width), np.int64)
    texts: list[str] = []
    entry = np.full((size, width), -1, np.int64)  # each (lead, rule)'s entry text, by column
    for j, c in enumerate(scores.columns):
        rows = np.flatnonzero(scores.points[:, j])
        distinct, inverse = _pairs(scores.points[rows, j], counts[rows, j])
        entry[rows, j] = len(texts) // len(_PLACES) + inverse
        head = f'{{"rule": {json.dumps(c.rule)}, "label": {json.dumps(c.label)}, '
        head += f'"kind": "{c.kind}", "points": '
        tail = ', "event_count": {}}}' if c.kind == "engagement" else "}}"  # a format
        for points, count in distinct:
            text = head + repr(points) + tail.format(count)
            texts += [before + text + after for before, after in _PLACES]
    leads, columns = np.nonzero(entry >= 0)  # by lead, in the core's rule order
    first = np.ones(len(leads), bool)
    first[1:] = leads[1:] != leads[:-1]
    last = np.ones(len(leads), bool)
    last[:-1] = leads[1:] != leads[:-1]
    forms = entry[leads, columns] * len(_PLACES) + first * 2 + last  # its form in `texts`
    per_lead = np.bincount(leads, minlength=size)
    slots = np.maximum(per_lead, 1)  # a lead without entries takes one: "[]" (the last text)
    starts = np.zeros(size + 1, np.int64)
    np.cumsum(slots, out=starts[1:])
    rank = np.arange(len(leads)) - np.repeat(np.cumsum(per_lead) - per_lead, per_lead)
    order = np.full(int(starts[-1]), len(texts), np.int64)
    order[starts[leads] + rank] = forms
    gathered = pa.array([*texts, "[]"], pa.large_string()).take(pa.array(order))
    ends = np.frombuffer(gathered.buffers()[1], np.int64, len(gathered) + 1, gathered.offset * 8)
    return pa.LargeStringArray.from_buffers(
        size, pa.py_buffer(np.ascontiguousarray(ends[starts])), gathered.buffers()[2]
    )


def _pairs(points: FloatArray, counts: Any) -> tuple[list[tuple[float, int]], Any]:
    """The distinct (points, count) pairs, and which of them each row holds. A rule's points
    take few values (hundredths up to its cap) and its counts few: each is numbered by a sort
    of its distinct values only, and the pairs by their numbers."""
    point_values, point_codes = np.unique(points, return_inverse=True)
    count_values, count_codes = np.unique(counts, return_inverse=True)
    pair_codes = point_codes.reshape(-1) * len(count_values) + count_codes.reshape(-1)
    present, inverse = np.unique(pair_codes, return_inverse=True)
    width = len(count_values)
    distinct = [
        (point_values[code // width].item(), int(count_values[code % width]))
        for code in present.tolist()
    ]
    return distinct, inverse.reshape(-1)


# Where an entry stands in its lead's list: (text before it, text after it), indexed by
# first * 2 + last.
_PLACES = (("", ", "), ("", "]"), ("[", ", "), ("[", "]"))


def _same_floats(a: FloatArray, b: FloatArray) -> BoolArray:
    """Equal to the bit (0.0 and -0.0 differ, as they do in JSON)."""
    return np.asarray(a.view(np.int64) == b.view(np.int64), bool)


def changed(stored: StoredScores, scores: bulk.BulkScores, contributions: Any) -> BoolArray:
    """Leads whose new score differs from the stored one in any stored value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    old = pa.array(stored.contributions, pa.large_string())
    same_text = pc.fill_null(pc.equal(contributions, old), False).to_numpy(zero_copy_only=False)
    same = (
        _same_floats(stored.fit, scores.fit)
        & _same_floats(stored.engagement, scores.engagement)
        & _same_floats(stored.total, scores.total)
        & ~ranked_elsewhere(stored, scores)
        & np.asarray(same_text, bool)
    )
    return np.asarray(~same, bool)


def ranked_elsewhere(stored: StoredScores, scores: bulk.BulkScores) -> BoolArray:
    """Leads whose grade, persona or score band moved: what the wide report indexes hold."""
    return np.asarray(
        (stored.grade != scores.grade.astype(object))
        | (stored.persona != scores.persona)
        | (stored.score_band != bulk.score_bands(scores.total)),
        bool,
    )


def _chosen(texts: Any, rows: BoolArray) -> Any:
    """The texts of these rows (Arrow's filter: its take copies a million long strings
    several times slower)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return texts if rows.all() else pc.filter(texts, pa.array(rows))


def write(
    session: Session, leads: LeadRows, scores: bulk.BulkScores, now: datetime, *, every: bool
) -> int:
    """Store the new scores; `every`: these are all the leads. The number of leads written.

    The leads whose grade, persona or score band moved are written apart from those whose
    only the points did: the second write leaves those columns, and the wide indexes holding
    them (`ix_leads_reports`, `ix_leads_quality`, `ix_leads_persona`), alone. A nightly
    re-score moves many totals and few grades, so those indexes are updated for the few
    instead of rebuilt for the many."""
    texts = contributions_json(scores)
    differs = changed(leads.stored, scores, texts)
    ranked = differs & ranked_elsewhere(leads.stored, scores)
    written = np.flatnonzero(differs)
    with rescoring.rewriting_stamps(session, len(leads.ids)):
        for picked, same_ranks in ((ranked, False), (differs & ~ranked, True)):
            _write_rows(session, leads, scores, texts, picked, now, same_ranks=same_ranks)
        if len(written) < len(leads.ids):  # the others keep their score, scored again now
            unchanged = None if every else np.setdiff1d(leads.ids, leads.ids[written]).tolist()
            rescoring.stamp_scored_at(session, now, unchanged)
    return len(written)


def _write_rows(
    session: Session,
    leads: LeadRows,
    scores: bulk.BulkScores,
    texts: Any,
    picked: BoolArray,
    now: datetime,
    *,
    same_ranks: bool,
) -> None:
    """Write the scores of the leads `picked`; `same_ranks`: their grade, persona and score
    band are as stored, and are not set."""
    rows = np.flatnonzero(picked)
    if not len(rows):
        return
    columns = {
        "id": leads.ids[rows].tolist(),
        "fit": scores.fit[rows].tolist(),
        "engagement": scores.engagement[rows].tolist(),
        "total": scores.total[rows].tolist(),
        "contributions": _chosen(texts, picked).to_pylist(),
    }
    if not same_ranks:
        columns["score_band"] = bulk.score_bands(scores.total[rows]).tolist()
        columns["grade"] = scores.grade[rows].tolist()
        if not (leads.stored.persona[rows] == scores.persona[rows]).all():
            # Set only when one moved: its index (`ix_leads_persona`) is otherwise left alone.
            columns["persona"] = scores.persona[rows].tolist()
    with rescoring.rewriting_scores(session, columns, len(rows)):
        rescoring.write_lead_scores(session, columns, now, same_ranks=same_ranks)
