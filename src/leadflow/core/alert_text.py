"""What an alert says to a person: a title and a body, from its payload (pure).

Chat and e-mail channels (Apprise) and the in-app bell show the same words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadflow.core.single_line import one_line


def summary(payload: dict[str, Any]) -> tuple[str, str]:
    """A human title (one line: an e-mail's Subject) and body for chat and e-mail channels."""
    title, body = _summary(payload)
    return one_line(title), body


def _summary(payload: dict[str, Any]) -> tuple[str, str]:
    data = payload.get("data", {})
    if "title" in data and "text" in data:  # a win or a digest: written for people already
        return str(data["title"]), str(data["text"])
    if "lead" not in data:  # an SLA alert: whose lead, how late, what happens now
        late = f"{data.get('minutes_late')} minutes past the SLA"
        title = f"{payload.get('type')}: {data.get('email')} ({late})"
        lines = [f"Was due: {_moment(data.get('sla_due_at'))}", f"Team: {data.get('team')}"]
        if data.get("action"):
            lines.append(f"Escalation: {data['action']}")
        if data.get("reassigned"):
            lines.append(_now_with(data))
        return title, "\n".join(lines)
    lead = data.get("lead", {})
    # A name stored before names were kept on one line still gives the alert's lines alone.
    company = f" at {one_line(str(lead['company']))}" if lead.get("company") else ""
    title = f"{payload.get('type')}: {lead.get('name') or lead.get('email')}{company}"
    if "reassigned_to" in data:  # its previous owner told who has the lead now, and why
        return title, f"{_now_with(data)}\nWhy: {data.get('reason')}"
    why = data.get("why", {})
    lines = [
        f"{one_line(str(lead.get('title') or ''))}{company}".strip(),
        f"Why: {why.get('reason', '')}",
        f"Due: {_moment(data.get('sla_due_at')) or 'no deadline'}",
        _handed_over(data),
        *_adding_up(why.get("top_contributions", []), why.get("score", {}).get("total")),
    ]
    persona = lead.get("persona") or {}
    lines += [f"Talk about: {t}" for t in persona.get("talking_points", [])]
    return title, "\n".join(line for line in lines if line)


def _handed_over(data: dict[str, Any]) -> str:
    """Whose the lead was and why it changed hands, for a lead handed over ("" otherwise)."""
    if not data.get("reassigned"):
        return ""
    before = data.get("previous_owner") or "the team queue"
    return f"Reassigned from {before}: {data.get('assignment_reason')}"


def _now_with(data: dict[str, Any]) -> str:
    """Who has a lead that changed hands: a person, or nobody yet (its team's queue)."""
    return f"Now with: {data.get('reassigned_to') or 'the team queue'}"


def _adding_up(top: list[dict[str, Any]], total: Any) -> list[str]:
    """The listed reasons, then what the rules not listed add and the total they make: the
    lines sum to the score exactly, as the lead page's explanation does. Points are
    hundredths (sums of rounded contributions), so they are added as whole hundredths."""
    lines = [f"- {c['label']}: {c['points']:+.2f}" for c in top]
    if not isinstance(total, int | float):
        return lines  # a payload without its score (none is made so): the reasons alone
    whole = round(total * 100)
    rest = whole - sum(round(c["points"] * 100) for c in top)
    if rest:
        lines.append(f"- the other rules: {rest / 100:+.2f}")
    return [*lines, f"= total {whole / 100:.2f}"]


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
