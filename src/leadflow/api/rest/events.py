"""/api/events: native events from other tools, stored and scored like tracking calls."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from leadflow.api.deps import DbSession, Now, require
from leadflow.api.rest.schemas import EventIn, EventsIn
from leadflow.api.strict_body import StrictRoute
from leadflow.core.errors import Invalid
from leadflow.core.roles import Permission
from leadflow.models.api_key import ApiKey
from leadflow.services import ingest, playbooks

router = APIRouter(prefix="/events", tags=["events"], route_class=StrictRoute)
Writer = Annotated[ApiKey, Depends(require(Permission.WRITE_EVENTS))]


def as_segment(event: EventIn) -> dict[str, Any]:
    """The event as a Segment message (the one ingestion path)."""
    message: dict[str, Any] = {
        "type": event.type,
        "userId": event.user_id or event.email,
        "anonymousId": event.anonymous_id,
        "properties": event.properties,
        "context": event.context,
        "timestamp": event.timestamp,
        "messageId": event.message_id,
    }
    message["event" if event.type == "track" else "name"] = event.name
    if event.type == "identify":
        message["traits"] = {**event.properties, "email": event.email}
    elif event.email and event.user_id and isinstance(event.context.get("traits") or {}, dict):
        # The e-mail names the person beside the user id, as a Segment call's context traits
        # do (the user id alone would send the event to whoever that id is, maybe nobody).
        traits = {**(event.context.get("traits") or {}), "email": event.email}
        message["context"] = {**event.context, "traits": traits}
    if event.type == "group":
        message["groupId"] = event.properties.get("groupId") or event.properties.get("domain")
        message["traits"] = event.properties
    return {k: v for k, v in message.items() if v is not None}


@router.post("", summary="Store events (deduplicated by message_id) and score their leads")
def post_events(body: EventsIn, session: DbSession, now: Now, caller: Writer) -> dict[str, Any]:
    """422 naming `events[i].field` when an event is invalid; nothing is stored then."""
    valid, rejected = ingest.parse_all([as_segment(e) for e in body.events], now)
    if rejected:
        problems = [(f"events[{r.index}]", r.reason) for r in rejected]
        raise Invalid(f"{problems[0][0]}: {problems[0][1]}", problems)
    book = playbooks.active_playbook(session)
    result = ingest.ingest(session, book, valid, source=f"key-{caller.id}", now=now)
    return {"stored": result.stored, "duplicates": result.duplicates, "lead_ids": result.lead_ids}
