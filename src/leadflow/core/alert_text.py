"""What an alert says to a person: a title and a body, from its payload (pure).

Chat and e-mail channels (Apprise) and the in-app bell show the same words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def summary(payload: dict[str, Any]) -> tuple[str, str]:
    """A human title and body for chat and e-mail channels."""
    data = payload.get("data", {})
    if "title" in data and "text" in data:  # a win or a digest: written for people already
        return str(data["title"]), str(data["text"])
    if "lead" not in data:  # an SLA alert: whose lead, how late, what happens now
        late = f"{data.get('minutes_late')} minutes past the SLA"
        title = f"{payload.get('type')}: {data.get('email')} ({late})"
        lines = [f"Was due: {_moment(data.get('sla_due_at'))}", f"Team: {data.get('team')}"]
        if data.get("action"):
            lines.append(f"Escalation: {data['action']}")
        return title, "\n".join(lines)
    lead = data.get("lead", {})
    who = lead.get("name") or lead.get("email")
    company = f" at {lead['company']}" if lead.get("company") else ""
    title = f"{payload.get('type')}: {who}{company}"
    why = data.get("why", {})
    lines = [
        f"{lead.get('title') or ''}{company}".strip(),
        f"Why: {why.get('reason', '')} (score {why.get('score', {}).get('total')})",
        f"Due: {_moment(data.get('sla_due_at')) or 'no deadline'}",
        *(f"- {c['label']}: {c['points']:+g}" for c in why.get("top_contributions", [])),
    ]
    persona = lead.get("persona") or {}
    lines += [f"Talk about: {t}" for t in persona.get("talking_points", [])]
    return title, "\n".join(line for line in lines if line)


def _moment(value: Any) -> str | None:
    """A payload's ISO 8601 time as a person reads it, to the minute in UTC
    (`2026-11-30 11:56 UTC`); anything else as it came."""
    if not isinstance(value, str):
        return None if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the payloads' times are UTC
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def lead_of(payload: dict[str, Any]) -> int | None:
    """The id of the lead an alert is about, if it is about one."""
    data = payload.get("data", {})
    found = (data.get("lead") or {}).get("id", data.get("lead_id"))
    return found if isinstance(found, int) else None
