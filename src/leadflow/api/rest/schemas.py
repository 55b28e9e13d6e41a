"""Request bodies of the REST API: strict, so a misspelt field is named in a 422."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from leadflow.core.addresses import Domain, Email
from leadflow.core.amounts import MAX_AMOUNT
from leadflow.core.lifecycle import Action
from leadflow.core.limits import MAX_DAYS, MAX_DB_INT, MAX_EMPLOYEES, MAX_REASON, MAX_TEXT
from leadflow.core.rep_fields import RepIn, RepPatch
from leadflow.core.single_line import OneLine

# Rep fields are checked where the CLI checks them too (`core.rep_fields`).
__all__ = ["RepIn", "RepPatch"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class LeadPatch(_Strict):
    """Fields to set on a lead; `attributes` are merged key by key (null removes one)."""

    first_name: OneLine | None = Field(None, max_length=200)
    last_name: OneLine | None = Field(None, max_length=200)
    title: OneLine | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=60)
    country: str | None = Field(None, max_length=100)
    source: str | None = Field(None, max_length=200)
    medium: str | None = Field(None, max_length=200)
    campaign: str | None = Field(None, max_length=200)
    owner: str | None = Field(
        None,
        max_length=200,
        description="Who owns the lead. While its hand-off waits for a first touch, an active "
        "rep's e-mail (the hand-off follows, with a deadline of theirs) or null (back to its "
        "team's queue)",
    )
    company: OneLine | None = Field(None, max_length=200, description="Company name")
    domain: str | None = Field(None, max_length=200, description="Company domain")
    website: str | None = Field(None, max_length=500)
    employees: int | None = Field(None, ge=0, le=MAX_EMPLOYEES)
    industry: str | None = Field(None, max_length=200)
    attributes: dict[str, Any] | None = None
    do_not_track: bool | None = Field(
        None, description="Consent: true stores and scores no new behaviour of the lead."
    )


class LeadIn(LeadPatch):
    """A new lead: an e-mail address and whatever else is known."""

    email: Email


class AccountIn(_Strict):
    """An account, keyed by company domain; existing accounts are updated."""

    domain: Domain
    name: OneLine | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=200)
    employees: int | None = Field(None, ge=0, le=MAX_EMPLOYEES)
    annual_revenue: float | None = Field(None, ge=0, le=MAX_AMOUNT)
    country: str | None = Field(None, max_length=100)
    owner: Email | None = Field(
        None,
        description="The rep (e-mail) who owns the account: its sales-ready leads go to them "
        "first when the playbook's routing has account_owner_first",
    )
    attributes: dict[str, Any] | None = None


class EventIn(_Strict):
    """A native event: whose (e-mail, user id or anonymous id), what and when."""

    email: Email | None = None
    user_id: str | None = Field(None, max_length=200)
    anonymous_id: str | None = Field(None, max_length=200)
    type: Literal["track", "page", "screen", "identify", "group"] = "track"
    name: str | None = Field(None, max_length=200, description="Event name (required for track)")
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    timestamp: str | None = Field(None, description="ISO 8601; now when absent")
    message_id: str | None = Field(None, max_length=200, description="For deduplication")


class EventsIn(_Strict):
    """Up to 2,500 native events."""

    events: list[EventIn] = Field(min_length=1, max_length=2500)


class ActionIn(_Strict):
    """A stage action by sales (or marketing) on a lead."""

    action: Action
    reason: str = Field("", max_length=MAX_REASON)
    recycle_days: int | None = Field(
        None, ge=1, le=MAX_DAYS, description="For recycle / close_lost"
    )
    reengage_on: date | None = Field(None, description="For recycle: when it may qualify again")
    amount: float | None = Field(
        None, ge=0, le=MAX_AMOUNT, description="Deal amount, for convert / close_won"
    )
    expected_close: date | None = Field(None, description="For convert")
    rep: str | None = Field(
        None,
        max_length=320,
        description="For accept: the e-mail of the rep who takes the lead and owns it (a key is "
        "not a person); needed when the lead has no owner yet",
    )


class TouchIn(_Strict):
    """A call, e-mail or meeting, with what the prospect asked and objected."""

    channel: Literal["call", "email", "meeting", "chat", "other"]
    text: str = Field("", max_length=MAX_TEXT)
    questions: list[str] = Field(default_factory=list, max_length=50)
    objections: list[str] = Field(default_factory=list, max_length=50)


class NoteIn(_Strict):
    """A note on where the conversation stands."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)


class PlaybookText(_Strict):
    """A playbook's YAML text (it may also be posted as the raw body)."""

    content: str = Field(min_length=1, max_length=1_000_000)


# A row id in a path: beyond BIGINT no row can have it, so it is a 422 rather than a 500.
RowId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
Offset = Annotated[int, Query(ge=0, le=MAX_DB_INT)]


class WebhookIn(_Strict):
    """An endpoint for signed lead events."""

    url: str = Field(max_length=2000)
    events: list[str] | None = None


class MergeIn(_Strict):
    """The duplicate to fold into the lead of the URL."""

    duplicate: str = Field(min_length=1, max_length=320, description="Its e-mail or id")
