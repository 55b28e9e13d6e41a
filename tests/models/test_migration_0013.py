"""Upgrading a database with events to 0013 fills in each event's time and kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from leadflow.core.event_kinds import kind_of, occurred_micros
from leadflow.models.db import downgrade, make_engine, upgrade

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (1, 'a@x.io', '{}', 'nurture', 0, 0, 0, '[]', :t, :t)"
)
EVENT = (
    "INSERT INTO events (lead_id, source, message_id, type, name, properties, context,"
    " occurred_at, received_at) VALUES (1, 'api', :m, :type, :name, :p, '{}', :t, :t)"
)
EVENTS = [
    ("m1", "page", None, {"path": "/pricing", "url": "https://x.example/pricing"}),
    ("m2", "page", None, {"path": 1}),
    ("m3", "track", "Demo Requested", {}),
    ("m4", "identify", None, {"path": None}),
    ("m5", "page", None, {"path": '/caf\u00e9 "quoted"'}),
    # Kinds are computed once per distinct (type, name, path) and joined back: an empty name
    # or path is not a missing one, and events that share all three share the kind.
    ("m6", "track", "", {"path": ""}),
    ("m7", "page", None, {"path": "/pricing"}),
    ("m8", "page", "", {"path": "/pricing"}),
]


def test_0013_backfills_times_and_kinds(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    moments = [datetime(2026, 9, 1, 12, k, 5, 1000 * k + 7, tzinfo=UTC) for k in range(len(EVENTS))]
    with engine.begin() as db:
        db.execute(text(LEAD), {"t": moments[0]})
        for (message, type_, name, properties), moment in zip(EVENTS, moments, strict=True):
            row = {"m": message, "type": type_, "name": name, "p": json.dumps(properties)}
            db.execute(text(EVENT), {**row, "t": moment})
    upgrade(engine)
    with engine.connect() as db:
        query = text("SELECT message_id, occurred_us, kind FROM events")
        found = {m: (us, kind) for m, us, kind in db.execute(query)}
    assert found == {
        message: (occurred_micros(moment), kind_of(type_, name, properties))
        for (message, type_, name, properties), moment in zip(EVENTS, moments, strict=True)
    }
    downgrade(engine, "0006")
    upgrade(engine)
    engine.dispose()
