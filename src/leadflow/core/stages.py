"""Lifecycle stages and the order of the funnel."""

from enum import StrEnum


class Stage(StrEnum):
    """A lead's lifecycle stage: one language for both teams."""

    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    NURTURE = "nurture"
    DISQUALIFIED = "disqualified"


FUNNEL: tuple[Stage, ...] = (
    Stage.SUBSCRIBER,
    Stage.LEAD,
    Stage.MQL,
    Stage.SQL,
    Stage.OPPORTUNITY,
    Stage.CUSTOMER,
)

# Stages of the leads still to be won: not customers, not recycled to nurture, not disqualified.
IN_PLAY: tuple[Stage, ...] = (Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY)

# Stages the machine may move a lead into by itself; later ones belong to sales.
AUTOMATIC_STAGES: tuple[Stage, ...] = (Stage.LEAD, Stage.MQL, Stage.SQL)


def funnel_rank(stage: Stage) -> int:
    """Position in the funnel; nurture and disqualified sit outside it (-1)."""
    return FUNNEL.index(stage) if stage in FUNNEL else -1
