"""Segment tracking-API messages: validation, identity keys and clock-skew correction (pure).

The public Segment HTTP Tracking API spec is the contract: `identify`, `track`, `page`,
`screen`, `group` and `alias` messages with `userId` and/or `anonymousId`, a `messageId`
for deduplication and `timestamp`/`sentAt` for correcting the sender's clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadflow.core.addresses import email_address
from leadflow.core.errors import Invalid

TYPES = ("identify", "track", "page", "screen", "group", "alias")
SHORT_TYPES = {"i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group"}
SHORT_TYPES["a"] = "alias"
MAX_ID = 200  # characters in a userId, anonymousId, messageId or groupId
MAX_NAME = 200  # characters in an event or page name
# One @ between runs without blanks or @, a final line break allowed as `$` allows it; the
# dot is looked for after (a pattern with `\.` between two such runs backtracked over every
# dot of a long domain: quadratic in its length).
_ADDRESS = re.compile(r"[^@\s]+@([^@\s]+)\n?")


@dataclass(frozen=True, slots=True)
class Message:
    """One valid message, its time corrected to the server's clock."""

    type: str
    message_id: str
    occurred_at: datetime
    user_id: str | None = None
    anonymous_id: str | None = None
    name: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    previous_id: str | None = None

    def email(self) -> str | None:
        """The person's e-mail: identify traits, context traits, or an e-mail-shaped userId."""
        return next(self._emails(), None)  # asked often per message: stops at the first

    def emails(self) -> list[str]:
        """Every e-mail the message carries, in that order (the first is `email()`)."""
        return list(self._emails())

    def emails_as_written(self) -> list[str]:
        """Every e-mail the message carries, trimmed and lowercase but otherwise as written:
        how erasures kept an address before addresses had one form (`email_identity`)."""
        return [written.strip().lower() for written, _ in self._addresses()]

    def _emails(self) -> Iterator[str]:
        for _, kept in self._addresses():
            yield kept

    def _addresses(self) -> Iterator[tuple[str, str]]:
        """Each e-mail as written and in its one form: only what `email_address` takes, as
        every other path (an address an import or the API refuses is no lead's e-mail here)."""
        for candidate in (
            self.traits.get("email"),
            (self.context.get("traits") or {}).get("email"),
            self.user_id,
        ):
            if isinstance(candidate, str) and email_shaped(candidate.strip()):
                try:
                    yield candidate, email_address(candidate)
                except ValueError:
                    continue


def email_shaped(text: str) -> bool:
    """True for text shaped like an address: `x@y.z`, one @, no blanks (in one pass)."""
    shaped = _ADDRESS.fullmatch(text)
    return shaped is not None and "." in shaped[1][1:-1]


USER_PREFIX = "user:"  # a user id as an identity key (an anonymous id is kept as it is)
# An address a merge folded into another lead, as an identity key (`repositories.leads`):
# no anonymous or previous id may take that form (`parse_message` refuses it).
EMAIL_PREFIX = "email:"


def merged_address(key: str) -> str | None:
    """The address an `email:` identity key names; None for any other key."""
    return key[len(EMAIL_PREFIX) :] if key.startswith(EMAIL_PREFIX) else None


def previous_keys(previous_id: str) -> tuple[str, str]:
    """The keys an alias's previous id may be filed under: as an anonymous or a user id."""
    return previous_id, USER_PREFIX + previous_id


def parse_time(value: Any, where: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (naive means UTC); None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{where} must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value.strip())
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        raise Invalid(f"{where} {value[:40]!r} is not an ISO 8601 date-time") from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise Invalid(f"{where} {value[:40]!r} is outside the years 1-9999 in UTC") from None


def corrected_time(raw: Mapping[str, Any], received_at: datetime) -> datetime:
    """When it happened by the server's clock: `receivedAt - (sentAt - timestamp)`.

    The sender's clock may be off; `sentAt` and `timestamp` come from the same clock, so their
    difference is trustworthy. A time after receipt is clamped to receipt: an event cannot
    have happened in the future, and scoring ignores future events.
    """
    timestamp = parse_time(raw.get("timestamp"), "timestamp") or parse_time(
        raw.get("originalTimestamp"), "originalTimestamp"
    )
    sent_at = parse_time(raw.get("sentAt"), "sentAt")
    if timestamp is None:
        return received_at
    try:
        moment = received_at - (sent_at - timestamp) if sent_at is not None else timestamp
    except OverflowError:
        raise Invalid("sentAt and timestamp are too far apart to correct the clock") from None
    return min(moment, received_at)


def _identifier(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{key} must be a string")
    text = str(value).strip()
    if len(text) > MAX_ID:
        raise Invalid(f"{key} is longer than {MAX_ID} characters")
    return text or None


def _object(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{key} must be a JSON object")
    return value


def _name(raw: Mapping[str, Any], key: str, required: bool) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise Invalid(f"{key} must be a string")
    if len(value) > MAX_NAME:
        raise Invalid(f"{key} is longer than {MAX_NAME} characters")
    return value.strip()


def content_id(raw: Mapping[str, Any]) -> str:
    """A stable id for a message sent without `messageId`, so a replay still dedupes."""
    text = json.dumps(raw, sort_keys=True, default=str, separators=(",", ":"))
    return "content-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def without_nul(value: Any) -> Any:
    """The value with NUL characters removed from every string (PostgreSQL text refuses them)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def parse_message(raw: Any, received_at: datetime, kind: str | None = None) -> Message:
    """A valid Message, or Invalid naming the field and the reason."""
    if not isinstance(raw, dict):
        raise Invalid("each message must be a JSON object")
    raw = without_nul(raw)
    declared = raw.get("type")
    message_type = SHORT_TYPES.get(declared, declared) if isinstance(declared, str) else declared
    message_type = kind or message_type
    if message_type not in TYPES:
        expected = ", ".join(TYPES)
        raise Invalid(
            f"type {declared!r} is not one of {expected}" if declared else "type is required"
        )
    user_id = _identifier(raw, "userId")
    anonymous_id = _visitor_id(raw, "anonymousId")
    if user_id is None and anonymous_id is None:
        raise Invalid("userId or anonymousId is required")
    if message_type == "alias" and user_id is None:
        raise Invalid("userId is required")
    name_key = {"track": "event", "page": "name", "screen": "name"}.get(message_type)
    properties = _object(raw, "properties")
    traits = _object(raw, "traits")
    if message_type == "group":
        properties = {**traits}
    context = _object(raw, "context")
    if not isinstance(context.get("traits", {}), dict | None):
        raise Invalid("context.traits must be a JSON object")
    return Message(
        type=message_type,
        message_id=_identifier(raw, "messageId") or content_id(raw),
        occurred_at=corrected_time(raw, received_at),
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=_name(raw, name_key, required=message_type == "track") if name_key else None,
        properties=properties,
        traits=traits,
        context=context,
        group_id=_required_id(raw, "groupId") if message_type == "group" else None,
        previous_id=_previous_id(raw) if message_type == "alias" else None,
    )


def _visitor_id(raw: Mapping[str, Any], key: str) -> str | None:
    """An id filed as an identity key as it is: never in the form of a merged address's."""
    value = _identifier(raw, key)
    if value is not None and value.startswith(EMAIL_PREFIX):
        raise Invalid(f"{key} may not begin with {EMAIL_PREFIX!r}: such keys are e-mail addresses")
    return value


def _previous_id(raw: Mapping[str, Any]) -> str:
    value = _visitor_id(raw, "previousId")
    if value is None:
        raise Invalid("previousId is required")
    return value


def _required_id(raw: Mapping[str, Any], key: str) -> str:
    value = _identifier(raw, key)
    if value is None:
        raise Invalid(f"{key} is required")
    return value
