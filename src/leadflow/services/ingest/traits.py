"""Segment traits mapped onto lead and account fields (the rest kept as custom attributes).

Every such field is one line (`core.single_line`): names reach alert titles and e-mail subjects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from leadflow.core import amounts
from leadflow.core.amounts import MAX_AMOUNT
from leadflow.core.limits import MAX_EMPLOYEES
from leadflow.core.single_line import MAX_NAME, one_line
from leadflow.services import companies

# Segment's reserved identify traits (camelCase) and common snake_case spellings.
LEAD_TRAITS = {
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "title": "title",
    "jobTitle": "title",
    "phone": "phone",
    "country": "country",
}
ACCOUNT_TRAITS = {
    "name": "name",
    "industry": "industry",
    "employees": "employees",
    "employee_count": "employees",
    "employeeCount": "employees",
    "annual_revenue": "annual_revenue",
    "annualRevenue": "annual_revenue",
    "country": "country",
}
_IGNORED = {"email", "company", "address", "id", "website", "domain", "do_not_track"}
# A lead's custom attributes from traits: anyone holding the public write key can send them,
# so a lead keeps a bounded set (a form or a CRM sync sends tens).
MAX_ATTRIBUTES = 200
MAX_ATTRIBUTE_BYTES = 64 * 1024  # their JSON text


def do_not_track(traits: Mapping[str, Any]) -> bool | None:
    """The consent trait `do_not_track` (true/false, "true"/"yes"/"1"), or None when absent."""
    value = traits.get("do_not_track")
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def lead_fields(traits: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(lead column values, custom attributes) from identify traits."""
    columns: dict[str, Any] = {}
    for key, column in LEAD_TRAITS.items():
        value = traits.get(key)
        if isinstance(value, str | int | float) and (text := one_line(str(value), MAX_NAME)):
            columns[column] = text
    address = traits.get("address")
    if "country" not in columns and isinstance(address, dict):
        country = address.get("country")
        if isinstance(country, str) and (text := one_line(country, MAX_NAME)):
            columns["country"] = text
    known = set(LEAD_TRAITS) | _IGNORED
    extra = {k: v for k, v in traits.items() if k not in known and v is not None}
    return columns, extra


def with_attributes(
    current: Mapping[str, Any], extra: Mapping[str, Any], declared: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The lead's custom attributes with these traits set: those it has are updated and new
    ones added while it holds fewer than `MAX_ATTRIBUTES` in `MAX_ATTRIBUTE_BYTES`; past that
    a trait stays on its identify event only. The playbook's `declared` fields (rules read
    them) are always kept."""
    merged = dict(current)
    size = _json_size(merged)
    for key, value in extra.items():
        grown = _json_size({key: value}) - (_json_size({key: merged[key]}) if key in merged else 0)
        room = key in merged or len(merged) < MAX_ATTRIBUTES
        if key in declared or (room and size + grown <= MAX_ATTRIBUTE_BYTES):
            merged[key] = value
            size += grown
    return merged


def _json_size(value: Mapping[str, Any]) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number: float | None = float(value)
        elif isinstance(value, str):
            number = amounts.number(value)  # `1,200` and `$1,200`, not `1,5`
        else:
            return None
    except OverflowError:  # an int past float's range
        return None
    return number if number is not None and math.isfinite(number) else None


def account_fields(traits: Mapping[str, Any]) -> dict[str, Any]:
    """Account column values from group traits or an identify `company` trait."""
    found: dict[str, Any] = {}
    for key, column in ACCOUNT_TRAITS.items():
        value = traits.get(key)
        if value is None or column in found:
            continue
        if column in ("employees", "annual_revenue"):
            number = _number(value)
            bound = MAX_EMPLOYEES if column == "employees" else MAX_AMOUNT
            if number is not None and 0 <= number <= bound:  # else not a real figure: ignored
                found[column] = int(number) if column == "employees" else number
        elif isinstance(value, str) and (text := one_line(value, MAX_NAME)):
            found[column] = text
    return found


def company_domain(traits: Mapping[str, Any], group_id: str | None = None) -> str | None:
    """The company's domain: `website`/`domain` traits, else a domain-shaped group id."""
    for candidate in (traits.get("domain"), traits.get("website"), group_id):
        if isinstance(candidate, str):
            domain = companies.company_domain(candidate) if "@" not in candidate else None
            if domain:
                return domain
    return None
