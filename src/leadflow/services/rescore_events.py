"""Event columns for a full re-score from each event's stored kind: integers, no JSON.

When every `where` field of the playbook is one a kind tells apart (`core.event_kinds`), an
event is its lead, its time and its kind; each distinct kind is read once, from one event of
that kind, and its type, name and path are spread back to every event of the kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core import bulk
from leadflow.core.bulk_columns import Coded, Encoder, IntArray, index_of
from leadflow.core.event_kinds import covered
from leadflow.core.playbook import Playbook
from leadflow.repositories import event_columns
from leadflow.repositories._arrow import Reading

PATH = "properties.path"


def readable(playbook: Playbook) -> bool:
    """Whether the playbook reads only fields kinds tell apart, so its events can be read as
    kinds (`kind_columns`)."""
    return covered(sorted(bulk.event_paths(playbook)))


@contextmanager
def reading_ahead(session: Session, playbook: Playbook) -> Iterator[Reading | None]:
    """Children reading the events' kinds while the caller reads its leads, for
    `kind_columns` (None: the playbook's events are not read as kinds, or no child may)."""
    if not readable(playbook):
        yield None
        return
    with event_columns.reading_ahead(session) as started:
        yield started


def kind_columns(
    session: Session, playbook: Playbook, lead_ids: IntArray, started: Reading | None = None
) -> bulk.EventColumns | None:
    """The event columns; None when the playbook reads fields kinds do not tell apart, or the
    kinds cannot be read. `started`: from `reading_ahead`."""
    paths = sorted(bulk.event_paths(playbook))
    if not covered(paths):
        return None
    found = event_columns.read_event_kinds(session, started)
    if found is None:
        return None
    types, names, texts = (_spread([s[k] for s in found.samples], found.kind) for k in range(3))
    where = {PATH: Coded(texts.codes, [None if t is None else json.loads(t) for t in texts.values])}
    return bulk.EventColumns(
        lead=index_of(lead_ids)(found.lead_id),
        type=types,
        name=names,
        occurred_us=found.occurred_us,
        where={p: where[p] for p in paths},
    )


def _spread(values: Sequence[str | None], kind: IntArray) -> Coded:
    """One value per kind, as a column over the events (codes of the distinct values)."""
    encoder = Encoder(text=True)
    per_kind = encoder.encode(list(values)) if len(values) else np.zeros(0, np.int64)
    return Coded(per_kind[kind] if len(kind) else np.zeros(0, np.int64), encoder.values)
