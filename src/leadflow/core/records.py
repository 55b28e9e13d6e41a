"""Rows coming in from files: lead, account and event records, and CRM export headers.

HubSpot and Salesforce exports name the same things differently; every header is mapped to
one of our field names before validation, so a team can import its CRM export unchanged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from leadflow.core import amounts
from leadflow.core.addresses import company_domain_name, domain_of, email_address
from leadflow.core.amounts import MAX_AMOUNT
from leadflow.core.limits import MAX_EMPLOYEES
from leadflow.core.single_line import one_line

_HEADER_ALIASES: dict[str, str] = {
    # HubSpot contact export
    "email": "email",
    "email address": "email",
    "first name": "first_name",
    "last name": "last_name",
    "job title": "title",
    "phone number": "phone",
    "country/region": "country",
    "company name": "company",
    "company domain name": "domain",
    "website url": "website",
    "number of employees": "employees",
    "annual revenue": "annual_revenue",
    "original source": "source",
    "original source drill-down 1": "medium",
    "lifecycle stage": "crm_stage",
    "industry": "industry",
    # Salesforce lead / contact export
    "firstname": "first_name",
    "lastname": "last_name",
    "title": "title",
    "phone": "phone",
    "company": "company",
    "website": "website",
    "numberofemployees": "employees",
    "annualrevenue": "annual_revenue",
    "leadsource": "source",
    "lead source": "source",
    "status": "crm_stage",
    "lead status": "crm_stage",
    "country": "country",
    "mailing country": "country",
    "email opt out": "email_opt_out",
    # Record ids, kept so a CRM sync can match its records (`external_ids`, lead_scores view)
    "record id": "hubspot_id",
    "hubspot record id": "hubspot_id",
    "hs_object_id": "hubspot_id",
    "lead id": "salesforce_id",
    "contact id": "salesforce_id",
    "sfdc id": "salesforce_id",
}

# The CRMs whose record ids a lead file may carry, as `<system>_id` columns.
EXTERNAL_SYSTEMS = ("hubspot", "salesforce")
MAX_EXTERNAL_ID = 200


def canonical_header(header: str) -> str:
    """Our field name for a CSV header (HubSpot, Salesforce or our own)."""
    cleaned = header.strip().lstrip("\ufeff")
    key = re.sub(r"\s+", " ", cleaned.lower())
    if key in _HEADER_ALIASES:
        return _HEADER_ALIASES[key]
    return re.sub(r"[^a-z0-9]+", "_", key).strip("_")


# A yes/no as files write it (TRUE and FALSE: Excel's cells and its CSV, any case), for the
# columns kept as custom attributes and event properties: a boolean, as tracking calls send
# one and as a rule compares it (`equals: true`, or `TRUE` unquoted in YAML, holds only on a
# boolean: `core.conditions._same`). A field of text (a title, a company) keeps its text.
_YES_NO = {"true": True, "false": False}


def _kept(extra: dict[str, Any] | None) -> dict[str, Any]:
    """The extra columns a record keeps: the blank ones left out, a yes/no a boolean."""
    return {k: _yes_no(v) for k, v in (extra or {}).items() if v is not None}


def _yes_no(value: Any) -> Any:
    if isinstance(value, str) and len(value) <= 7:  # "  false", at most: a cheap test first
        return _YES_NO.get(value.strip().casefold(), value)
    return value


def _email(value: Any) -> Any:
    return email_address(value) if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _number(value: Any) -> Any:
    """A number cell as Python reads numbers (`$1,200` -> `1200`); ValueError naming the
    text when it is none (`1,5`: no thousands separator, and 15 is not what it says)."""
    if not isinstance(value, str):
        return value
    if amounts.number(value) is None:  # the one reading: `1,5` and `1_5` are none
        raise ValueError(f"{amounts.shown(value)} is not a number")
    return amounts.number_text(value)


def _whole_number(value: Any) -> Any:
    """`_number` of a count: `12.0` is 12, `12.5` a ValueError naming the text."""
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"([-+]?\d+)(\.0*)?", amounts.number_text(value))
    if whole is None:
        raise ValueError(f"{amounts.shown(value)} is not a whole number")
    return whole.group(1)


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, allow_inf_nan=False)
    # Fields kept on one line (`core.single_line`): a name reaches alert titles and subjects.
    ONE_LINE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        # One pass per row, not one validator call per field: imports validate 1e5 rows.
        if not isinstance(data, dict):
            return data
        kept = {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        for key in cls.ONE_LINE.intersection(kept):
            value = kept[key]
            if isinstance(value, str):
                kept[key] = one_line(value) or None  # nothing but control characters: blank
        return kept


class LeadRecord(_Record):
    """A lead row: an e-mail address, what we know of the person, and the company."""

    ONE_LINE = frozenset({"first_name", "last_name", "title", "company"})

    email: str
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    phone: str | None = None
    country: str | None = None
    company: str | None = None
    domain: str | None = None
    website: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    employees: int | None = Field(None, ge=0, le=MAX_EMPLOYEES)
    industry: str | None = None
    hubspot_id: str | None = Field(None, max_length=MAX_EXTERNAL_ID)
    salesforce_id: str | None = Field(None, max_length=MAX_EXTERNAL_ID)

    @field_validator("hubspot_id", "salesforce_id", mode="before")
    @classmethod
    def _record_id(cls, value: Any) -> Any:
        # Spreadsheets turn numeric ids into floats (12345.0); an id is text.
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if isinstance(value, int) else value

    def external_ids(self) -> dict[str, str]:
        """The record ids the row carries, by system."""
        found = {system: getattr(self, f"{system}_id") for system in EXTERNAL_SYSTEMS}
        return {system: value for system, value in found.items() if value}

    @field_validator("email", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return _email(value)

    @field_validator("employees", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return _whole_number(_blank_to_none(value))

    def company_domain(self) -> str | None:
        """The account domain: given, from the website, else from a business e-mail."""
        return domain_of(self.domain) or domain_of(self.website) or domain_of(str(self.email))

    def extra_attributes(self) -> dict[str, Any]:
        """Columns beyond the known ones, kept as custom attributes."""
        return _kept(self.model_extra)


class AccountRecord(_Record):
    """An account row, keyed by company domain."""

    ONE_LINE = frozenset({"name"})

    domain: str
    name: str | None = None
    industry: str | None = None
    employees: int | None = Field(None, ge=0, le=MAX_EMPLOYEES)
    annual_revenue: float | None = Field(None, ge=0, le=MAX_AMOUNT)
    country: str | None = None
    owner: str | None = None  # the rep (e-mail) routing gives the account's leads first

    @field_validator("domain", mode="before")
    @classmethod
    def _bare(cls, value: Any) -> Any:
        return company_domain_name(value) if isinstance(value, str) else value

    @field_validator("employees", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return _whole_number(_blank_to_none(value))

    @field_validator("annual_revenue", mode="before")
    @classmethod
    def _numeric(cls, value: Any) -> Any:
        return _number(_blank_to_none(value))

    @field_validator("owner", mode="before")
    @classmethod
    def _owner(cls, value: Any) -> Any:
        return _email(value)

    def extra_attributes(self) -> dict[str, Any]:
        """Columns beyond the known ones, kept as custom attributes."""
        return _kept(self.model_extra)


class EventRecord(_Record):
    """An event row: whose (e-mail), what (type, name, properties) and when."""

    email: str
    type: str = Field(pattern=r"^(track|page|screen|identify|group)$")
    name: str | None = Field(None, max_length=200)  # as the tracking API allows
    timestamp: datetime
    message_id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)

    @field_validator("email", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return _email(value)

    @model_validator(mode="after")
    def _columns_are_properties(self) -> EventRecord:
        """A flat file (CSV, Excel) has no `properties` object: a row without one has its other
        columns (`path`, `url`, `utm_source`) as its properties, rather than dropped."""
        extra = _kept(self.model_extra)
        if extra and "properties" not in self.model_fields_set:
            self.properties = extra
        return self

    @field_validator("timestamp", mode="wrap")
    @classmethod
    def _moment(cls, value: Any, read: ValidatorFunctionWrapHandler) -> Any:
        """A number is seconds or milliseconds since 1970 (`moment_of_number`); a refused
        text is quoted, with what to write."""
        number = _plain_number(value)
        if number is not None:
            return moment_of_number(number, value)
        try:
            return read(value)
        except ValidationError as exc:
            raise ValueError(_not_a_moment(value, exc.errors()[0]["msg"])) from None

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
            raise ValueError("outside the years 1-9999 in UTC") from None


# A number in a timestamp is seconds, or milliseconds, since 1970 (as JSON exports and many
# systems write times) of a moment from 2000 to 2099; any other number is refused. So the
# two never overlap, and neither does a spreadsheet's day number (days since 1899-12-30:
# 46027.5 is 2026-01-05 12:00), which a date cell that lost its format shows and which
# was read as seconds (an event on 1970-01-01). It is refused saying what it looks like.
EPOCH_FROM = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
EPOCH_UNTIL = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
SHEET_DAY_ZERO = datetime(1899, 12, 30)
SHEET_DAYS = (25_569, 73_051)  # a spreadsheet's day numbers of 1970-01-01 and 2100-01-01
ISO_EXAMPLE = "2026-01-05T14:30:00Z"


def _plain_number(value: Any) -> float | None:
    """The value as a number when it is one or text of one (`46027.5`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if abs(value) < 1e300 else float("inf")  # 10**400: no float
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value):
        return float(value)
    return None


def moment_of_number(number: float, given: Any) -> datetime:
    """The moment `number` seconds or milliseconds after 1970 is; ValueError quoting `given`
    (and the date it looks like, for a spreadsheet's day number) when it is neither."""
    for scale in (1, 1000):
        if EPOCH_FROM * scale <= number < EPOCH_UNTIL * scale:
            return datetime.fromtimestamp(number / scale, UTC)
    shown = amounts.shown(str(given))
    if SHEET_DAYS[0] <= number < SHEET_DAYS[1]:
        day = SHEET_DAY_ZERO + timedelta(days=number)
        raise ValueError(
            f"{shown} looks like a spreadsheet's day number ({day:%Y-%m-%d %H:%M}), not a time: "
            f"format the column as a date, or write it as {ISO_EXAMPLE}"
        )
    raise ValueError(
        f"{shown} is not seconds or milliseconds since 1970 from 2000 to 2099, as a number "
        f"here must be: write the time as {ISO_EXAMPLE}"
    )


_DAY_AND_MONTH = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})")


def _not_a_moment(value: Any, reason: str) -> str:
    """Why a timestamp is refused, quoting it: a date written day and month (`05/01/2026`)
    with the days it could be, written year first; else the reader's reason."""
    shown = amounts.shown(str(value))
    written = _DAY_AND_MONTH.match(value.strip()) if isinstance(value, str) else None
    if written is None:
        return f"{shown} is not a date and time ({reason.lower()}): write it as {ISO_EXAMPLE}"
    first, second, year = int(written[1]), int(written[2]), written[3]
    year = f"20{year}" if len(year) == 2 else year
    days = [f"{year}-{month:02d}-{day:02d}" for day, month in ((first, second), (second, first))
            if 1 <= month <= 12 and 1 <= day <= 31]  # fmt: skip
    readings = " or ".join(dict.fromkeys(days)) or "year-month-day"
    return (
        f"{shown} is not a date and time this reads (day/month or month/day, which the file "
        f"does not say): write it year first ({readings})"
    )
