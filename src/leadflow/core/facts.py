"""What a rule can read: the one definition of a lead's facts, and of an event's.

Every fact path a playbook may name is resolved here to where its value comes from (`Fact`):
a lead column, a declared custom attribute of the lead, an account column or declared account
attribute, the account's tier (from the playbook's tiers), the e-mail's domain, the model's
probability, or (for stage criteria and routing only) the lead's score. The live path
(`lead_facts`, one lead as a dict) and the bulk path (`services.rescore`, columns) both read
what this module says; a path it cannot resolve is a playbook error (`unknown_fields`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadflow.core.segment import TYPES as MESSAGE_TYPES

if TYPE_CHECKING:
    from leadflow.core.conditions import Condition
    from leadflow.core.playbook import Playbook

FREE_FORM = Mapping[str, Any]

# Lead columns a rule may name; where one is NULL the lead's attribute of that name is read
# (imports keep unmapped columns as attributes, and older data may hold a title there), but
# for the `COMPUTED_COLUMNS`.
LEAD_COLUMNS = (
    *("email", "first_name", "last_name", "title", "phone", "country"),
    *("source", "medium", "campaign", "probability"),
)
# Lead columns leadflow computes (the model's prediction): never read from an attribute of
# the same name, which anyone sending traits or importing a column could set.
COMPUTED_COLUMNS = ("probability",)
ACCOUNT_COLUMNS = ("domain", "name", "industry", "employees", "annual_revenue", "country")
# What a lead's score offers stage criteria and routing rules (see LeadScore.as_facts).
SCORE_FACTS = ("fit", "engagement", "total", "grade", "fit_letter", "engagement_digit", "persona")
# The account's score as the roll-up computes it (its fit plus its buying group's engagement):
# it sums its leads' scores, so like theirs only stage criteria and routing may read it.
ACCOUNT_SCORE = "account.score"


class Source(StrEnum):
    """Where a fact's value comes from."""

    LEAD_COLUMN = "lead column"
    LEAD_ATTRIBUTE = "lead custom attribute (custom_fields)"
    ACCOUNT_COLUMN = "account column"
    ACCOUNT_ATTRIBUTE = "account custom attribute (account_custom_fields)"
    ACCOUNT_TIER = "the playbook's tier of the account's domain"
    EMAIL_DOMAIN = "the part of the e-mail after the @"
    SCORE = "the lead's score (stage criteria and routing only)"
    ACCOUNT_SCORE = (
        "the account's score: its fit plus its buying group's engagement, from the account"
        " roll-up (stage criteria and routing only)"
    )


@dataclass(frozen=True, slots=True)
class Fact:
    """One readable path: its source, the column or attribute it names, keys below that."""

    path: str
    source: Source
    name: str
    keys: tuple[str, ...] = ()

    @property
    def nested(self) -> bool:
        """True when the value sits below a custom attribute (e.g. `prefs.chair.budget`)."""
        return bool(self.keys)


def fact_table() -> list[tuple[str, Source]]:
    """The built-in facts, for documentation and `leadflow playbook facts`."""
    rows = [(name, Source.LEAD_COLUMN) for name in LEAD_COLUMNS]
    rows.append(("email_domain", Source.EMAIL_DOMAIN))
    rows += [(f"account.{name}", Source.ACCOUNT_COLUMN) for name in ACCOUNT_COLUMNS]
    rows += [("account.tier", Source.ACCOUNT_TIER), ("tier", Source.ACCOUNT_TIER)]
    rows += [(name, Source.SCORE) for name in SCORE_FACTS]
    rows.append((ACCOUNT_SCORE, Source.ACCOUNT_SCORE))
    return rows


def resolve(
    path: str,
    custom: Iterable[str] = (),
    account_custom: Iterable[str] = (),
    *,
    scored: bool = False,
) -> Fact | None:
    """Where `path` comes from, or None when no source supplies it."""
    head, _, rest = path.partition(".")
    if path in LEAD_COLUMNS:
        return Fact(path, Source.LEAD_COLUMN, path)
    if path == "email_domain":
        return Fact(path, Source.EMAIL_DOMAIN, "email")
    if path in ("account.tier", "tier"):
        return Fact(path, Source.ACCOUNT_TIER, "tier")
    if scored and path in SCORE_FACTS:
        return Fact(path, Source.SCORE, path)
    if path == ACCOUNT_SCORE:
        return Fact(path, Source.ACCOUNT_SCORE, "score") if scored else None
    if head == "account" and rest:
        name, _, below = rest.partition(".")
        if rest in ACCOUNT_COLUMNS:
            return Fact(path, Source.ACCOUNT_COLUMN, rest)
        if name in set(account_custom):
            return Fact(path, Source.ACCOUNT_ATTRIBUTE, name, _keys(below))
        return None
    if head in set(custom):
        return Fact(path, Source.LEAD_ATTRIBUTE, head, _keys(rest))
    return None


def _keys(below: str) -> tuple[str, ...]:
    return tuple(below.split(".")) if below else ()


@dataclass(frozen=True, slots=True)
class FieldUse:
    """A fact path named at one place of a playbook (`loc`: keys down the document)."""

    loc: tuple[str | int, ...]
    path: str
    scored: bool


def _condition_uses(
    condition: Condition, loc: tuple[str | int, ...], scored: bool
) -> Iterator[FieldUse]:
    if condition.field:
        yield FieldUse((*loc, "field"), condition.field, scored)
    for key, children in (("all", condition.all_), ("any", condition.any_)):
        for i, child in enumerate(children or []):
            yield from _condition_uses(child, (*loc, key, i), scored)
    if condition.not_ is not None:
        yield from _condition_uses(condition.not_, (*loc, "not"), scored)


def field_uses(playbook: Playbook) -> Iterator[FieldUse]:
    """Every lead fact path the playbook names, with where it is named."""
    for i, persona in enumerate(playbook.personas):
        for j, criterion in enumerate(persona.criteria):
            yield from _condition_uses(criterion, ("personas", i, "criteria", j), False)
    for i, rule in enumerate(playbook.fit.rules):
        if rule.when is not None:
            yield from _condition_uses(rule.when, ("fit", "rules", i, "when"), False)
        if rule.distance is not None:
            loc = ("fit", "rules", i, "distance", "field")
            yield FieldUse(loc, rule.distance.field, False)
    for stage in ("lead", "mql", "sql"):
        criterion = getattr(playbook.lifecycle, stage)
        if criterion is not None:
            yield from _condition_uses(criterion, ("lifecycle", stage), True)
    for i, routing in enumerate(playbook.routing.rules):
        if routing.when is not None:
            yield from _condition_uses(routing.when, ("routing", "rules", i, "when"), True)


def lead_paths(playbook: Playbook) -> set[str]:
    """The lead fact paths fit rules and persona criteria read (what scoring needs)."""
    return {use.path for use in field_uses(playbook) if not use.scored}


_ACCOUNT_SCORE_READ: dict[int, tuple[Playbook, bool]] = {}


def reads_account_score(playbook: Playbook) -> bool:
    """True when stage criteria or routing read the account's score: a lead's stage may then
    move when another lead at its account is re-scored. Asked on every tracking call that
    scores: remembered per playbook object (walking its conditions takes ~0.1 ms)."""
    seen = _ACCOUNT_SCORE_READ.get(id(playbook))
    if seen is not None and seen[0] is playbook:
        return seen[1]
    found = any(use.path == ACCOUNT_SCORE for use in field_uses(playbook))
    if len(_ACCOUNT_SCORE_READ) > 32:
        _ACCOUNT_SCORE_READ.clear()
    _ACCOUNT_SCORE_READ[id(playbook)] = (playbook, found)
    return found


def unknown_fields(playbook: Playbook) -> list[tuple[tuple[str | int, ...], str]]:
    """(where, message) for every path no source supplies: a typo, or an undeclared attribute;
    and every event matcher's type or field no event has (`unknown_event_fields`)."""
    found = []
    for use in field_uses(playbook):
        custom, account_custom = playbook.custom_fields, playbook.account_custom_fields
        if resolve(use.path, custom, account_custom, scored=use.scored) is None:
            found.append((use.loc, _why_unknown(use)))
    return found + unknown_event_fields(playbook)


# What an event condition reads (`EventFacts.as_facts`): the roots, and those with keys below.
EVENT_FIELDS = ("type", "name", "properties", "context")
EVENT_OBJECTS = ("properties", "context")


def unknown_event_fields(playbook: Playbook) -> list[tuple[tuple[str | int, ...], str]]:
    """(where, message) for each event matcher's type no message has and each `where` field
    no event has (`property.path`, `path`): a rule that could never count an event."""
    matchers = [(("engagement", "rules", i, "event"), r.event)
                for i, r in enumerate(playbook.engagement.rules)]  # fmt: skip
    matchers += [(("lifecycle", "hand_raisers", i, "event"), h.event)
                 for i, h in enumerate(playbook.lifecycle.hand_raisers)]  # fmt: skip
    found: list[tuple[tuple[str | int, ...], str]] = []
    for loc, match in matchers:
        for k, kind in enumerate(match.type or []):
            if kind.casefold() not in MESSAGE_TYPES:
                why = f"unknown event type {kind!r}: one of {', '.join(MESSAGE_TYPES)}"
                found.append(((*loc, "type", k), why))
        if match.where is None:
            continue
        for use in _condition_uses(match.where, (*loc, "where"), False):
            head, _, rest = use.path.partition(".")
            if use.path in EVENT_FIELDS or (head in EVENT_OBJECTS and rest):
                continue
            found.append((use.loc, _why_unknown_event_field(use.path)))
    return found


def _why_unknown_event_field(path: str) -> str:
    head, _, rest = path.partition(".")
    close = difflib.get_close_matches(head, EVENT_OBJECTS, n=1, cutoff=0.6)
    if close and rest:
        meant = f"{close[0]}.{rest}"
    elif head not in EVENT_FIELDS:
        meant = f"properties.{path}"  # `path`: most events' fields are properties
    else:
        meant = ""
    if meant:
        return f"unknown event field {path!r}: did you mean {meant!r}?"
    return f"unknown event field {path!r}: an event has type, name, properties.* and context.*"


def _close_to(use: FieldUse) -> str | None:
    """The known fact a path is most likely a typo of, if any."""
    scored_only = (Source.SCORE, Source.ACCOUNT_SCORE)
    known = [path for path, source in fact_table() if use.scored or source not in scored_only]
    close = difflib.get_close_matches(use.path, known, n=1, cutoff=0.85)
    return close[0] if close else None


def _why_unknown(use: FieldUse) -> str:
    head, _, rest = use.path.partition(".")
    if use.path in SCORE_FACTS:
        return f"{use.path!r} is the lead's score: only stage criteria and routing may read it"
    if use.path == ACCOUNT_SCORE:
        return (
            f"{use.path!r} is the account's score, rolled up from its leads' scores: only stage"
            " criteria and routing may read it"
        )
    close = _close_to(use)
    if close is not None:
        return f"unknown field {use.path!r}: did you mean {close!r}?"
    if head == "account" and rest:
        name = rest.split(".")[0]
        return (
            f"unknown field {use.path!r}: not an account field ({', '.join(ACCOUNT_COLUMNS)}, "
            f"tier); declare a custom attribute with `account_custom_fields: [{name}]`"
        )
    return (
        f"unknown field {use.path!r}: not a lead field; declare a custom attribute with "
        f"`custom_fields: [{head}]`"
    )


def undeclared(playbook: Playbook) -> tuple[list[str], list[str]]:
    """The custom attributes (lead, account) the playbook reads without declaring them
    (not counting likely typos of a known fact)."""
    lead, account = set(), set()
    for use in field_uses(playbook):
        custom, account_custom = playbook.custom_fields, playbook.account_custom_fields
        if resolve(use.path, custom, account_custom, scored=use.scored) is not None:
            continue
        if use.path in (*SCORE_FACTS, ACCOUNT_SCORE) or _close_to(use) is not None:
            continue
        head, _, rest = use.path.partition(".")
        if head == "account" and rest:
            account.add(rest.split(".")[0])
        else:
            lead.add(head)
    return sorted(lead), sorted(account)


@dataclass(frozen=True, slots=True)
class EventFacts:
    """One event as scoring sees it; `id` is stable (database id or message id)."""

    id: str
    type: str
    occurred_at: datetime
    name: str | None = None
    properties: FREE_FORM = field(default_factory=dict)
    context: FREE_FORM = field(default_factory=dict)

    def as_facts(self) -> dict[str, Any]:
        """The event as a mapping for `where` conditions."""
        return {
            "type": self.type,
            "name": self.name,
            "properties": self.properties,
            "context": self.context,
        }


def email_domain(email: str | None) -> str | None:
    """The part after the @, lowercased."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def lead_facts(
    lead: FREE_FORM, account: FREE_FORM | None = None, tier: str | None = None
) -> dict[str, Any]:
    """One lead's facts: its attributes, its columns over them, `email_domain`, its account.

    `lead` holds the `LEAD_COLUMNS` and `attributes`; `account` the `ACCOUNT_COLUMNS`,
    `attributes` and `score` (the account's total, as last rolled up). This is the shape
    every per-lead caller builds, and what the bulk path's columns equal value for value.
    """
    facts: dict[str, Any] = dict(lead.get("attributes") or {})
    facts.update({k: v for k, v in lead.items() if k != "attributes" and v is not None})
    facts.update({name: lead.get(name) for name in COMPUTED_COLUMNS})
    facts["email_domain"] = email_domain(facts.get("email"))
    account_facts: dict[str, Any] = {}
    if account:
        account_facts.update(account.get("attributes") or {})
        account_facts.update({k: v for k, v in account.items() if k != "attributes"})
    account_facts["tier"] = tier
    facts["account"] = account_facts
    facts["tier"] = tier
    return facts


def lead_row(values: FREE_FORM) -> dict[str, Any]:
    """A lead's facts input from any mapping holding its columns and `attributes`."""
    row: dict[str, Any] = {name: values.get(name) for name in LEAD_COLUMNS}
    row["attributes"] = dict(values.get("attributes") or {})
    return row


def account_row(values: FREE_FORM | None) -> dict[str, Any] | None:
    """An account's facts input from any mapping holding its columns and `attributes`."""
    if values is None:
        return None
    row: dict[str, Any] = {name: values.get(name) for name in ACCOUNT_COLUMNS}
    row["attributes"] = dict(values.get("attributes") or {})
    row["score"] = values.get("score")  # the roll-up's total (ACCOUNT_SCORE)
    return row


def facts_of(playbook: Playbook, lead: FREE_FORM, account: FREE_FORM | None) -> dict[str, Any]:
    """A lead's facts from its row and its account's row, the tier from the playbook."""
    tier = playbook.tier_of(account.get("domain") if account else None)
    return lead_facts(lead_row(lead), account_row(account), tier.id if tier else None)


def typed_facts(playbook: Playbook, typed: FREE_FORM) -> dict[str, Any]:
    """Facts typed by path (a what-if: `account.tier: top`) completed as a lead's are: each
    value put where its path is read from, then the tier from the account's domain, the
    e-mail's domain, and the grade's letter and digit. A derived fact typed itself is taken
    as typed (the tier under both its names); a path no source supplies stays as typed."""
    lead: dict[str, Any] = {"attributes": {}}
    account: dict[str, Any] = {"attributes": {}}
    loose, derived = {}, {}
    for path, value in typed.items():
        fact = resolve(path, playbook.custom_fields, playbook.account_custom_fields, scored=True)
        source = fact.source if fact is not None and not fact.nested else None
        if fact is not None and source in (Source.LEAD_COLUMN, Source.LEAD_ATTRIBUTE):
            (lead if source is Source.LEAD_COLUMN else lead["attributes"])[fact.name] = value
        elif fact is not None and source in (Source.ACCOUNT_COLUMN, Source.ACCOUNT_SCORE):
            account[fact.name] = value
        elif fact is not None and source is Source.ACCOUNT_ATTRIBUTE:
            account["attributes"][fact.name] = value
        elif source in (Source.ACCOUNT_TIER, Source.EMAIL_DOMAIN, Source.SCORE):
            derived[path] = value
        else:
            loose[path] = value
    given = len(account) > 1 or bool(account["attributes"])
    facts = facts_of(playbook, lead, account if given else None)
    grade = derived.get("grade")
    if isinstance(grade, str) and len(grade) == 2 and grade[1].isdigit():
        facts.update(fit_letter=grade[0], engagement_digit=int(grade[1]))
    if "account.tier" in derived or "tier" in derived:
        tier = derived.pop("account.tier", derived.pop("tier", None))
        facts["tier"] = facts["account"]["tier"] = tier
    return {**facts, **derived, **loose}
