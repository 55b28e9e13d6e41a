"""The fields of a sales rep, checked alike by the API, the web app and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leadflow.core.addresses import Email
from leadflow.core.errors import Invalid


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class RepIn(_Fields):
    """A sales rep."""

    email: Email
    name: str = Field(min_length=1, max_length=200)
    team: str = Field(min_length=1, max_length=100)
    capacity: int = Field(20, ge=1, le=10_000, description="New leads per day")
    weight: float = Field(1.0, gt=0, le=100, description="Share of the team's round-robin")
    working_hours: str = Field("mon-fri 09:00-17:00", max_length=100)
    timezone: str = Field("UTC", max_length=100)
    manager_email: Email | None = None
    territories: list[str] = Field(default_factory=list, max_length=100)
    channels: list[str] = Field(default_factory=list, max_length=20, description="Apprise URLs")


class RepPatch(_Fields):
    """Fields to change on a rep (its e-mail, which identifies it, stays)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    team: str | None = Field(None, min_length=1, max_length=100)
    territories: list[str] | None = Field(None, max_length=100)
    capacity: int | None = Field(None, ge=1, le=10_000)
    weight: float | None = Field(None, gt=0, le=100)
    working_hours: str | None = Field(None, max_length=100)
    timezone: str | None = Field(None, max_length=100)
    out_of_office_until: datetime | None = None
    manager_email: Email | None = None
    channels: list[str] | None = Field(None, max_length=20)
    active: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required(cls, data: Any) -> Any:
        # Only the fields sent change; null may clear the optional ones, not these.
        if isinstance(data, dict):
            for name in (
                "name",
                "team",
                "territories",
                "capacity",
                "weight",
                "working_hours",
                "timezone",
                "channels",
                "active",
            ):
                if name in data and data[name] is None:
                    raise ValueError(f"{name}: may not be null (leave it out to keep it)")
        return data


def checked(model: type[RepIn | RepPatch], fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as `model` keeps them (given ones only), or Invalid naming each bad one."""
    try:
        return model.model_validate(fields).model_dump(exclude_unset=True)
    except ValidationError as exc:
        problems = [(".".join(map(str, e["loc"])) or "rep", e["msg"].removeprefix("Value error, "))
                    for e in exc.errors()]  # fmt: skip
        raise Invalid("; ".join(f"{f}: {m}" for f, m in problems), problems) from None
