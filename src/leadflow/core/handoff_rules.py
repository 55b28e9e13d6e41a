"""The hand-off part of the playbook: who gets a sales-ready lead, and how fast (pure)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from leadflow.core.conditions import STORED, Condition
from leadflow.core.stages import Stage

YEAR_MINUTES = 365 * 24 * 60


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class RoutingRule(_Strict):
    """Leads that meet `when` go to a team (round-robin inside it) or to one rep."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: Condition | None = Field(None, description="On lead facts, account.*, tier, persona.")
    team: str | None = None
    rep: str | None = Field(None, description="A rep's e-mail address.")

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.team is None) == (self.rep is None):
            raise ValueError("give exactly one of team or rep")
        return self


class Routing(_Strict):
    """Ordered rules, first match wins; the account's owner first when it has one."""

    account_owner_first: bool = True
    rules: list[RoutingRule] = Field(default_factory=list)
    fallback: str = Field("inbound", description="The team (queue) when no rule or rep fits.")

    def teams(self) -> list[str]:
        """The teams the rules and the fallback send leads to, sorted."""
        return sorted({rule.team for rule in self.rules if rule.team} | {self.fallback})

    def team_note(self, team: str) -> str | None:
        """A note when no rule (nor the fallback) sends leads to `team`: routing finds reps by
        their team's name, so a rep there gets leads only as an account's owner or a rule's
        named rep (a typo, say). None when one does."""
        teams = self.teams()
        if team in teams:
            return None
        return (f"note: no routing rule of the active playbook sends leads to team {team!r}"
                f" (it sends them to {', '.join(teams)}): the rep gets leads only as an"
                " account's owner or a rule's named rep")  # fmt: skip


class SlaTarget(_Strict):
    """How many working minutes the rep has to touch a lead that entered `stage`."""

    stage: Stage
    minutes: float = Field(
        gt=0,
        description="Working minutes, at most a year's.",
        json_schema_extra={"maximum": YEAR_MINUTES},
    )
    hand_raiser: bool | None = Field(
        None, description="Only leads a hand-raiser made sales-ready (true) or not (false)."
    )

    @field_validator("minutes")
    @classmethod
    def _a_year_at_most(cls, minutes: float, info: ValidationInfo) -> float:
        # More is no response deadline (`.inf` none at all: every hand-off failed on it). A
        # version stored before keeps running as written.
        if minutes > YEAR_MINUTES and not (info.context and info.context.get(STORED)):
            raise ValueError(f"at most a year of working minutes ({YEAR_MINUTES})")
        return minutes


class EscalationStep(_Strict):
    """What happens `after_minutes` past the deadline when the lead is still untouched."""

    after_minutes: float = Field(ge=0)
    action: Literal["remind", "manager", "reassign"]


class Sla(_Strict):
    """Sales' side: response deadlines and the escalation ladder; marketing's: MQL volume."""

    targets: list[SlaTarget] = Field(default_factory=list)
    escalation: list[EscalationStep] = Field(default_factory=list)
    mql_commitment_per_month: int | None = Field(None, ge=0)

    def target_for(self, stage: Stage, hand_raiser: bool) -> SlaTarget | None:
        """The first target for this stage that fits how the lead got there."""
        return next(
            (t for t in self.targets if t.stage is stage and t.hand_raiser in (None, hand_raiser)),
            None,
        )
