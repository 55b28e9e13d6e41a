"""0032 fills in what closed leads did before closing (`closed_content`, `won_touches`) from
the leads and events stored before it: the same rows the writers keep from then on
(`closed_rollups.refresh`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from leadflow.models.db import make_engine, upgrade
from leadflow.repositories import closed_rollups

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " outcome, closed_at, created_at, updated_at) VALUES (:id, :e, '{}', 'lead', 0, 0, 0,"
    " '[]', :outcome, :closed, :t, :t)"
)
EVENT = (
    "INSERT INTO events (lead_id, source, message_id, type, name, path, campaign, properties,"
    " context, occurred_at, received_at) VALUES (:lead, :source, :m, :type, :name, :path,"
    " :campaign, '{}', '{}', :t, :t)"
)
T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours, microseconds=hours * 7)


# (id, outcome, closed after hours): won, lost, open, won with no closing time (raw imports)
LEADS = [(1, "won", 10.0), (2, "lost", 5.0), (3, None, None), (4, "won", None)]
# (lead, source, type, name, path, campaign, hours after T0)
EVENTS = [
    (1, "web", "page", None, "/pricing", "spring", 1.0),
    (1, "web", "page", None, "/pricing", "spring", 2.0),  # the same page and touch again
    (1, "web", "page", None, None, None, 3.0),  # a page with no path
    (1, "api", "track", "Demo Requested", None, "fall", 9.999),
    (1, "api", "track", None, None, None, 4.0),  # a track with no name
    (1, "sales", "track", "Sales Touch", None, "spring", 4.5),  # sales' own: not content
    (1, "web", "identify", None, None, "fall", 5.0),  # a touch, not content
    (1, "web", "page", None, "/after", "late", 11.0),  # after the win
    (2, "web", "page", None, "/careers", "fall", 4.0),
    (2, "note", "track", "Note", None, None, 4.0),
    (3, "web", "page", None, "/pricing", "spring", 1.0),  # open
    (4, "web", "page", None, "/docs", "spring", 1.0),
]  # fmt: skip


def _rows(db: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    content = db.execute(
        text("SELECT lead_id, kind, item, outcome FROM closed_content ORDER BY 1, 2, 3")
    ).all()
    touches = db.execute(text("SELECT lead_id, times, campaigns FROM won_touches ORDER BY 1"))
    return [tuple(r) for r in content], [(i, json.loads(t), json.loads(c)) for i, t, c in touches]


def test_0032_backfills_as_the_writers_keep(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    with engine.begin() as db:
        for lead, outcome, closed in LEADS:
            closed_at = None if closed is None else _at(closed)
            db.execute(text(LEAD), {"id": lead, "e": f"l{lead}@x.io", "outcome": outcome,
                                    "closed": closed_at, "t": T0})  # fmt: skip
        for k, (lead, source, kind, name, path, campaign, hours) in enumerate(EVENTS):
            db.execute(text(EVENT), {
                "lead": lead, "source": source, "m": f"m{k}", "type": kind, "name": name,
                "path": path, "campaign": campaign, "t": _at(hours),
            })  # fmt: skip
    upgrade(engine)
    with engine.connect() as db:
        migrated = _rows(db)
    with Session(engine) as session, session.begin():
        closed_rollups.backfill_all(session)
        kept = _rows(session)
    engine.dispose()
    assert migrated == kept
    micros = [round((_at(h) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6)
              for h in (1.0, 2.0, 4.5, 5.0, 9.999)]  # fmt: skip
    assert migrated == (
        [(1, "event", "Demo Requested", "won"), (1, "event", "track", "won"),
         (1, "page", "/pricing", "won"), (1, "page", "?", "won"),
         (2, "page", "/careers", "lost")],
        [(1, micros, ["spring", "spring", "spring", "fall", "fall"])],
    )  # fmt: skip
