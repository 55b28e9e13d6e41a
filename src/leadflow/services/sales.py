"""What sales (and marketing) record on a lead: touches with the prospect's questions and
objections, and notes either team leaves so the next person picks up from there.

Both are stored as events of the lead (source `sales` or `note`), so they show on the
timeline and in alerts; a touch is also the SLA's first touch.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.limits import MAX_TEXT, text_at_most
from leadflow.core.team_events import NOTE, NOTE_SOURCE, TOUCH, TOUCH_SOURCE
from leadflow.models.lead import Lead
from leadflow.repositories import events as event_repo
from leadflow.repositories import lead_activity
from leadflow.repositories import reps as rep_repo
from leadflow.services import sla

TouchChannel = Literal["call", "email", "meeting", "chat", "other"]


def _tags(values: list[str] | None, what: str) -> list[str]:
    found = [v.strip() for v in values or [] if v and v.strip()]
    if any(len(v) > 200 for v in found):
        raise Invalid(f"{what}: each at most 200 characters")
    return found


def log_touch(
    session: Session,
    lead: Lead,
    *,
    actor: str,
    channel: TouchChannel,
    text: str = "",
    questions: list[str] | None = None,
    objections: list[str] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Record a call, e-mail or meeting; the first one meets (or closes) the SLA."""
    properties = {
        "channel": channel,
        "text": text_at_most("text", text.strip(), MAX_TEXT),
        "questions": _tags(questions, "questions"),
        "objections": _tags(objections, "objections"),
        "actor": actor,
        "stage": lead.stage,  # where the lead stood, for the questions-by-stage report
    }
    _store(session, lead, TOUCH_SOURCE, TOUCH, properties, now)
    assignment = sla.touch(session, lead.id, now)
    if assignment is None:  # none waiting for a touch: the latest one's (met before this)
        latest = rep_repo.latest_assignment(session, lead.id)
        assignment = latest[0] if latest else None
    return {**properties, "sla_status": assignment.status if assignment else None}


def add_note(session: Session, lead: Lead, *, actor: str, text: str, now: datetime) -> None:
    """A note on where the conversation stands (either team)."""
    if not text.strip():
        raise Invalid("text: a note cannot be empty")
    text = text_at_most("text", text.strip(), MAX_TEXT)
    _store(session, lead, NOTE_SOURCE, NOTE, {"text": text, "actor": actor}, now)


def _store(
    session: Session,
    lead: Lead,
    source: str,
    name: str,
    properties: dict[str, Any],
    now: datetime,
) -> None:
    row = {
        "lead_id": lead.id,
        "anonymous_id": None,
        "source": source,
        "message_id": uuid.uuid4().hex,
        "type": "track",
        "name": name,
        "properties": properties,
        "context": {},
        "occurred_at": now,
        "received_at": now,
    }
    event_repo.insert_new(session, [row])
    lead_activity.note_added(session, [lead.id])
    session.expire(lead, ["last_event_at", "last_page_view_at"])
    lead.updated_at = now
