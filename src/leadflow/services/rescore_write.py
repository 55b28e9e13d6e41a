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
    pairs: each entry's text is formatted once, then gathered and joined by Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    leads, columns, points = scores.sparse()
    counts = scores.counts[leads, columns] if scores.counts is not None else np.zeros_like(leads)
    texts: list[str] = []
    entry = np.zeros(len(points), np.int64)
    for j, c in enumerate(scores.columns):
        head = f'{{"rule": {json.dumps(c.rule)}, "label": {json.dumps(c.label)}, '
        head += f'"kind": "{c.kind}", "points": '
        mine = columns == j
        # A (points, count) pair as one complex number: a 1-D unique, sorted by both.
        pairs = points[mine] + 1j * counts[mine]
        distinct, inverse = np.unique(pairs, return_inverse=True)
        entry[mine] = len(texts) + inverse.reshape(-1)
        tail = ', "event_count": {}}}' if c.kind == "engagement" else "}}"  # a format
        texts += [head + repr(z.real) + tail.format(int(z.imag)) for z in distinct.tolist()]
    entries = pa.array(texts, pa.large_string()).take(pa.array(entry))
    offsets = np.searchsorted(leads, np.arange(len(scores.fit) + 1))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), entries)
    text = pa.large_string()
    joined = pc.binary_join(lists, pa.scalar(", ", text))
    brackets = [pa.scalar(s, text) for s in ("[", "]", "")]
    return pc.binary_join_element_wise(brackets[0], joined, brackets[1], brackets[2])


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
