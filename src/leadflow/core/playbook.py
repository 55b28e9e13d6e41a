"""The playbook: the one agreement sales and marketing write down, as a validated model."""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadflow.core.addresses import domain_of
from leadflow.core.conditions import Condition
from leadflow.core.handoff_rules import Routing, Sla
from leadflow.core.stages import Stage

RuleId = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Psychographics(_Strict):
    """What the persona believes and wants, in words a rep can use."""

    beliefs: list[str] = Field(default_factory=list)
    goals: list[str] = Field(default_factory=list)
    pains: list[str] = Field(default_factory=list)
    back_story: str = ""
    talking_points: list[str] = Field(default_factory=list)


class Persona(_Strict):
    """A named ideal buyer; a lead matches the persona whose criteria it meets best."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    description: str = ""
    criteria: list[Condition] = Field(min_length=1)
    min_match: float = Field(
        0.6, ge=0, le=1, description="Share of criteria a lead must meet to match."
    )
    psychographics: Psychographics = Field(default_factory=Psychographics)


class Tier(_Strict):
    """A target-account tier: a bounded list of company domains that earn extra points."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str = ""
    max_accounts: int = Field(ge=1)
    points: float = 0
    domains: list[str] = Field(default_factory=list)

    @field_validator("domains")
    @classmethod
    def _normalise(cls, domains: list[str]) -> list[str]:
        # In the form accounts keep theirs (`addresses.domain_of`): bare, lowercase, Unicode.
        return [tier_domain(d) for d in domains]

    @model_validator(mode="after")
    def _within_size(self) -> Self:
        if len(self.domains) > self.max_accounts:
            raise ValueError(
                f"tier {self.id!r} lists {len(self.domains)} accounts, "
                f"more than its max_accounts of {self.max_accounts}"
            )
        return self


class Distance(_Strict):
    """Full points at the ideal value or band, falling linearly to zero at `zero_at` away."""

    field: str
    ideal: tuple[float, float] = Field(description="[low, high]; equal ends for one value")
    zero_at: float = Field(gt=0, description="Distance from the band where points reach 0.")
    scale: Literal["linear", "log10"] = Field(
        "linear", description="log10 measures distance in orders of magnitude (sizes)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        low, high = self.ideal
        if low > high:
            raise ValueError("ideal must be [low, high] with low <= high")
        if self.scale == "log10" and low <= 0:
            raise ValueError("a log10 distance needs a positive ideal band")
        return self


class FitRule(_Strict):
    """Explicit points for who the lead is: a condition, or a distance from the ideal."""

    id: RuleId = Field(pattern=r"^[a-z0-9_.:-]+$")
    label: str
    points: float
    when: Condition | None = None
    distance: Distance | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.when is None) == (self.distance is None):
            raise ValueError("a fit rule needs exactly one of `when` or `distance`")
        return self

    def fields(self) -> set[str]:
        """Fact paths this rule reads."""
        if self.when is not None:
            return self.when.fields()
        return {self.distance.field} if self.distance else set()


class EventMatch(_Strict):
    """Which events a rule counts: type, name and conditions on the event's own fields."""

    type: list[str] | None = Field(None, description="track, page, screen, identify, ...")
    name: list[str] | None = Field(None, description="Event or page names (any case).")
    where: Condition | None = Field(
        None, description="On event fields, e.g. `properties.url` regex `/pricing`."
    )

    # One name or a list: the schema says so too, so editors accept what the parser accepts.
    @field_validator("type", "name", mode="before", json_schema_input_type=str | list[str] | None)
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Window(_Strict):
    """Frequency: the rule earns its points once while at least `count` events fall in `days`."""

    count: int = Field(ge=1)
    days: float = Field(gt=0)


class EngagementRule(_Strict):
    """Implicit points for what the lead did, per matching event, decaying with age."""

    id: RuleId = Field(pattern=r"^[a-z0-9_.:-]+$")
    label: str
    points: float
    event: EventMatch
    cap: float | None = Field(None, gt=0, description="Most points (in size) this rule can give.")
    window: Window | None = None
    half_life_days: float | None = Field(
        None, gt=0, description="Overrides the global half-life for this rule."
    )
    decay: bool = Field(True, description="false: points never fade (e.g. an unsubscribe).")


class Engagement(_Strict):
    """Engagement scoring: a global half-life and the rules."""

    half_life_days: float | None = Field(
        None, gt=0, description="Points halve every N days; null keeps them forever."
    )
    rules: list[EngagementRule] = Field(default_factory=list)


class Fit(_Strict):
    """Fit scoring: the rules (tier points are added on top)."""

    rules: list[FitRule] = Field(default_factory=list)


class GradeCutoffs(_Strict):
    """Minimum fit for letters A-C (else D) and engagement for digits 1-3 (else 4)."""

    fit: dict[str, float] = Field(default_factory=lambda: {"A": 60.0, "B": 40.0, "C": 20.0})
    engagement: dict[str, float] = Field(default_factory=lambda: {"1": 60.0, "2": 30.0, "3": 10.0})

    @field_validator("fit", "engagement", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        # YAML reads `1: 60` with an integer key; the digit is a name here.
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _descending(self) -> Self:
        for name, cuts, keys in (
            ("fit", self.fit, ("A", "B", "C")),
            ("engagement", self.engagement, ("1", "2", "3")),
        ):
            if set(cuts) != set(keys):
                raise ValueError(f"grade.{name} needs cut-offs for exactly {', '.join(keys)}")
            values = [cuts[k] for k in keys]
            if values != sorted(values, reverse=True):
                raise ValueError(f"grade.{name} cut-offs must fall from best to worst")
        return self


class AccountScoring(_Strict):
    """How the buying group adds up: who counts as engaged, and a cap on summed engagement."""

    engaged_min_engagement: float = Field(10, ge=0)
    engagement_cap: float | None = Field(None, gt=0)


class HandRaiser(_Strict):
    """An event that moves a lead straight to a stage (a demo request makes it SQL)."""

    event: EventMatch
    stage: Literal["mql", "sql"] = "sql"
    label: str = "Hand-raiser"


class Lifecycle(_Strict):
    """Automatic entry criteria per stage, hand-raisers, and which stages are sales-ready."""

    lead: Condition | None = Field(
        None, description="Subscriber -> lead. Default: the lead has an e-mail address."
    )
    mql: Condition | None = Field(None, description="On fit, engagement, total, grade, facts.")
    sql: Condition | None = None
    hand_raisers: list[HandRaiser] = Field(default_factory=list)
    sales_ready: list[Stage] = Field(default_factory=lambda: [Stage.SQL])
    on_decay: Literal["stay", "fall_back"] = Field(
        "stay",
        description="An MQL whose score decays below the MQL criteria stays (default) or "
        "falls back to lead (not when MQL is sales-ready).",
    )


class Retention(_Strict):
    """How long behaviour is kept tied to a person; older events are anonymized by the worker."""

    events_days: int | None = Field(
        None, ge=1, le=36_500, description="Events older than this many days are anonymized."
    )


class Learning(_Strict):
    """When the worker retrains the predictive model from new outcomes (`model train`); a new
    model replaces the active one only when it ranks no worse out of sample."""

    retrain: Literal["never", "daily", "weekly", "monthly"] = Field(
        "never", description="How often the worker retrains the model from closed leads."
    )
    min_new_outcomes: int = Field(
        50, ge=1, le=1_000_000,
        description="Retrain only once this many leads have closed since the last training.",
    )  # fmt: skip


class Playbook(_Strict):
    """One shared agreement: personas, target accounts, scoring, grades and stages."""

    name: str
    description: str = ""
    custom_fields: list[str] = Field(
        default_factory=list,
        description="Custom attributes of a lead that rules read (e.g. budget, plan).",
    )
    account_custom_fields: list[str] = Field(
        default_factory=list,
        description="Custom attributes of an account that rules read as account.NAME.",
    )
    personas: list[Persona] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    fit: Fit = Field(default_factory=Fit)
    engagement: Engagement = Field(default_factory=Engagement)
    grade: GradeCutoffs = Field(default_factory=GradeCutoffs)
    account_scoring: AccountScoring = Field(default_factory=AccountScoring)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    routing: Routing = Field(default_factory=Routing)
    sla: Sla = Field(default_factory=Sla)
    retention: Retention = Field(default_factory=Retention)
    learning: Learning = Field(default_factory=Learning)

    @field_validator("custom_fields", "account_custom_fields")
    @classmethod
    def _attribute_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
                raise ValueError(f"{name!r} is not an attribute name (letters, digits, _ or -)")
        _no_repeats("custom field", names)
        return names

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        for kind, lists in UNIQUE_IDS:
            _no_repeats(kind, [item.id for path in lists for item in _at(self, path)])
        owners: dict[str, str] = {}
        for tier in self.tiers:
            for domain in tier.domains:
                if domain in owners:
                    raise ValueError(in_two_tiers(domain, owners[domain], tier.id))
                owners[domain] = tier.id
        return self

    def tier_of(self, domain: str | None) -> Tier | None:
        """The tier an account domain belongs to, if any."""
        if not domain:
            return None
        wanted = domain_of(domain)  # an account stored before domains had one form matches too
        return next((tier for tier in self.tiers if wanted in tier.domains), None)


# Ids that must be unique, by kind, and the document lists that hold them (rules share one).
UNIQUE_IDS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("persona", (("personas",),)),
    ("tier", (("tiers",),)),
    ("rule", (("fit", "rules"), ("engagement", "rules"))),
)


def _at(model: BaseModel, path: tuple[str, ...]) -> list[Any]:
    """The list at this path of attributes (`("fit", "rules")`: the fit rules)."""
    found: Any = model
    for name in path:
        found = getattr(found, name)
    return list(found)


def tier_domain(domain: str) -> str:
    """A tier's domain in the form accounts keep theirs (`addresses.domain_of`): bare,
    lowercase, Unicode."""
    return domain_of(domain) or domain.strip().lower()


def in_two_tiers(domain: str, first: str, second: str) -> str:
    """What is wrong when two tiers list one domain (located as `repeated_id` is)."""
    return f"{domain} is in tiers {first!r} and {second!r}"


def repeated_id(kind: str, item: str) -> str:
    """What is wrong when an id is used twice (`core.playbook_text` locates it by this)."""
    return f"{kind} id {item!r} is used twice"


def _no_repeats(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(repeated_id(kind, item))
        seen.add(item)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the playbook, for editors and other tools."""
    schema = Playbook.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "leadflow playbook"
    return schema
