"""The events the team's own actions store on a lead: a touch and a note (pure).

Anybody holding the public write key can send an event of any name with any properties, a
"Note Added" saying who wrote it included. What the team wrote is told by the source the
services store it under, never by the name alone: an alert quotes only those notes, and a
timeline shows a touch or a note with its author only for those events. What such an event
says, in words, is `team_words`: the lead page and `leads show` both tell it from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class TeamWords:
    """A note or touch the team wrote, in words: how (a touch's channel), what was said (the
    text, then a touch's questions and objections) and who wrote it."""

    note: bool
    channel: str  # a touch's ("call"); "" for a note
    said: str
    by: str

    @property
    def what(self) -> str:
        """`Note`, or the touch as logged: `Call logged` (the lead page's heading)."""
        return "Note" if self.note else f"{self.channel.capitalize()} logged"

    def line(self) -> str:
        """On one line (`leads show`): `call — TEXT — objections: price (by ana@x.io)`,
        `note: TEXT (by ana@x.io)`."""
        if self.note:
            return f"note: {self.said} (by {self.by})"
        return " — ".join(part for part in (self.channel, self.said) if part) + f" (by {self.by})"


def team_words(
    name: str | None, source: str | None, properties: Mapping[str, Any] | None
) -> TeamWords | None:
    """The words of an event the team wrote (`is_note`, `is_touch`), None for any other. A
    property of another shape than the services store (a list that is not one) is left out,
    never spelt letter by letter nor a failure."""
    properties = properties or {}
    if is_note(name, source):
        note, channel = True, ""
    elif is_touch(name, source):
        note, channel = False, str(properties.get("channel") or "touch")
    else:
        return None
    said = [str(properties["text"])] if properties.get("text") else []
    for key in ("questions", "objections"):
        values = properties.get(key)
        if isinstance(values, list) and values:
            said.append(f"{key}: {', '.join(map(str, values))}")
    return TeamWords(note, channel, " — ".join(said), str(properties.get("actor") or "?"))
