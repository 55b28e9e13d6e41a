"""The events the team's own actions store on a lead: a touch and a note (pure).

Anybody holding the public write key can send an event of any name with any properties, a
"Note Added" saying who wrote it included. What the team wrote is told by the source the
services store it under, never by the name alone: an alert quotes only those notes, and a
timeline shows a touch or a note with its author only for those events.
"""

from __future__ import annotations

TOUCH = "Sales Touch"
TOUCH_SOURCE = "sales"
NOTE = "Note Added"
NOTE_SOURCE = "note"


def is_note(name: str | None, source: str | None) -> bool:
    """A note the team wrote (`services.sales.add_note`)."""
    return name == NOTE and source == NOTE_SOURCE


def is_touch(name: str | None, source: str | None) -> bool:
    """A touch the team logged (`services.sales.log_touch`)."""
    return name == TOUCH and source == TOUCH_SOURCE
