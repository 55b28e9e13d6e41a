"""Won leads' campaign touches from their events (`won_touches`), one row per lead: what the
attribution report reads instead of every touch's event.

A touch is an event naming a campaign at or before the lead's win. At a million leads the
report read some 380 thousand of them from the events on each call, as as many rows; here
it reads one row per won lead and decodes each list with one JSON parse for all leads.
Kept by `closed_rollups.refresh`; `touches_from_events` is the definition the tests hold the
rows to (and what the attribution report read before).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.closed_rollups import WonTouches
from leadflow.models.event import Event
from leadflow.models.lead import Lead
from leadflow.repositories._bulk import dialect_name, epoch_micros, fetch
from leadflow.repositories.report_sql import event_campaign, in_cohort, of_cohort

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Touches:
    """Event touches of won leads, one entry per touch, in no particular order."""

    lead_ids: Ints
    campaigns: list[str]
    times: Ints  # microseconds since 1970


def _touches(session: Session, *where: ColumnElement[bool]) -> Any:
    """(lead, campaign, time) of every event naming a campaign up to the lead's win."""
    campaign = event_campaign()
    return (
        select(Event.lead_id, campaign, epoch_micros(session, Event.occurred_at))
        .join(Lead, Lead.id == Event.lead_id)
        .where(*where, Lead.outcome == "won", campaign.is_not(None))
        .where(Event.occurred_at <= Lead.closed_at)
    )


def _columns(rows: list[tuple[Any, ...]]) -> Touches:
    n = len(rows)
    return Touches(
        np.fromiter(map(itemgetter(0), rows), np.int64, n),
        list(map(itemgetter(1), rows)),
        np.fromiter(map(itemgetter(2), rows), np.int64, n),
    )


def touches_from_events(session: Session, cohort: Cohort) -> Touches:
    """The won cohort leads' touches read from the events (ix_events_campaign_touches)."""
    query = _touches(session, in_cohort(cohort))
    return _columns(list(chain.from_iterable(fetch(session, query))))


def event_touches(session: Session, cohort: Cohort) -> Touches:
    """The won cohort leads' touches, from the kept rows."""
    return _kept(session, of_cohort(WonTouches.lead_id, cohort))


_KEPT = select(WonTouches.lead_id, WonTouches.times, WonTouches.campaigns)
_KEPT_OF = _KEPT.where(WonTouches.lead_id.in_(bindparam("ids", expanding=True)))


def stored(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    """These leads' kept rows as stored: (times, campaigns) text by lead."""
    rows = session.connection().execute(_KEPT_OF, {"ids": ids})
    return {int(lead_id): (times, campaigns) for lead_id, times, campaigns in rows}


def as_touches(kept: dict[int, tuple[str, str]], ids: list[int]) -> Touches:
    """These leads' touches from rows as `stored` and `add` give them (no second read)."""
    return _decoded([(k, *kept[k]) for k in ids if k in kept])


def _kept(session: Session, which: ColumnElement[bool]) -> Touches:
    return _decoded(list(chain.from_iterable(fetch(session, _KEPT.where(which)))))


def _decoded(rows: list[tuple[Any, ...]]) -> Touches:
    times_text = list(map(itemgetter(1), rows))
    counts = np.fromiter((t.count(",") + 1 for t in times_text), np.int64, len(rows))
    ids = np.fromiter(map(itemgetter(0), rows), np.int64, len(rows))
    return Touches(
        np.repeat(ids, counts),
        _joined(map(itemgetter(2), rows)),
        _integers(times_text),
    )


def _integers(arrays: list[str]) -> Ints:
    """The integers of many JSON arrays of integers (none empty), parsed by NumPy at once
    (a third of what decoding them as JSON costs)."""
    text = ",".join(a[1:-1] for a in arrays)
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, np.int64)


def _joined(arrays: Any) -> list[Any]:
    """The items of many JSON arrays (none empty), parsed at once."""
    return list(json.loads("[" + ",".join(a[1:-1] for a in arrays) + "]"))


_DELETE = delete(WonTouches).where(WonTouches.lead_id.in_(bindparam("ids", expanding=True)))


def _upsert(insert: Any) -> Any:
    """Two transactions refreshing one lead at once (PostgreSQL): the later one, which read
    the events the earlier committed, replaces its row instead of failing or keeping it."""
    later = {name: insert.excluded[name] for name in ("times", "campaigns")}
    return insert.on_conflict_do_update(index_elements=["lead_id"], set_=later)


_INSERT = {
    "sqlite": _upsert(sqlite.insert(WonTouches)),
    "postgresql": _upsert(postgresql.insert(WonTouches)),
}


def forget(session: Session, batch: list[int]) -> None:
    """Delete these leads' rows."""
    session.connection().execute(_DELETE, {"ids": batch})


def add(session: Session, batch: list[int]) -> dict[int, tuple[str, str]]:
    """Add the rows of these leads that were won and have touches (by time, then campaign);
    what was written, as `stored` reads it."""
    paths: dict[int, list[tuple[int, str]]] = defaultdict(list)
    query = _touches(session, Lead.id.in_(batch))
    for lead_id, campaign, at in session.connection().execute(query):
        paths[int(lead_id)].append((int(at), str(campaign)))
    if not paths:
        return {}
    written = {}
    for lead_id, path in sorted(paths.items()):
        path.sort()
        times, campaigns = [t for t, _ in path], [c for _, c in path]
        written[lead_id] = (_dumps(times), _dumps(campaigns))
    rows = [{"lead_id": k, "times": t, "campaigns": c} for k, (t, c) in written.items()]
    session.connection().execute(_INSERT[dialect_name(session)], rows)
    return written


def _dumps(items: list[Any]) -> str:
    return json.dumps(items, separators=(",", ":"))
