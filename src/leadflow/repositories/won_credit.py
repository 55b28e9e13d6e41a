"""Won leads' credit per campaign under each attribution model (`won_credit`): what the
attribution report adds up, in SQL, instead of weighing every touch of every won lead on
each call.

A lead's rows are a function of its kept touches (`won_touches`), its amount, its creation,
opportunity and closing moments and the campaign it was acquired by; `closed_rollups.refresh`
recomputes them right after its touches, wherever those change, and on every write of those
columns. The weights are `core.attribution_credit.credit` at the default half-life, the very
function the report uses for any other half-life, so both give the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadflow.core.attribution import DEFAULT_HALF_LIFE_DAYS, MODELS
from leadflow.core.attribution_credit import credit, won_paths
from leadflow.core.report_math import Cohort
from leadflow.models.closed_rollups import WonCredit
from leadflow.repositories import attribution, won_touches
from leadflow.repositories._bulk import dialect_name
from leadflow.repositories.report_sql import of_cohort


@dataclass(frozen=True, slots=True)
class CampaignCredit:
    """One campaign's credit under each model asked for (millionths) and its won leads."""

    campaign: str
    micros: dict[str, int]
    won_leads: int


_DELETE = delete(WonCredit).where(WonCredit.lead_id.in_(bindparam("ids", expanding=True)))


def _upsert(insert: Any) -> Any:
    """Two transactions refreshing one lead at once (PostgreSQL): the later one's figures,
    computed from the touches the earlier committed, replace the earlier's (as `won_touches`)."""
    later = {model: insert.excluded[model] for model in MODELS}
    return insert.on_conflict_do_update(index_elements=["campaign", "lead_id"], set_=later)


_INSERT = {
    "sqlite": _upsert(sqlite.insert(WonCredit)),
    "postgresql": _upsert(postgresql.insert(WonCredit)),
}


def forget(session: Session, batch: list[int]) -> None:
    """Delete these leads' rows."""
    session.connection().execute(_DELETE, {"ids": batch})


def add(session: Session, batch: list[int], kept: dict[int, tuple[str, str]]) -> None:
    """Add the rows of the won leads among these, from their touches as just kept
    (`won_touches.add`'s answer)."""
    won = attribution.won_leads_among(session, batch)
    if not won.ids.size:
        return
    touches = won_touches.as_touches(kept, won.ids.tolist())
    paths, campaigns = won_paths(
        won.ids.tolist(), won.created, won.opportunity, won.won, won.amounts, won.campaigns,
        (touches.lead_ids, touches.campaigns, touches.times),
    )  # fmt: skip
    found = credit(paths, MODELS, DEFAULT_HALF_LIFE_DAYS)
    ids, codes = won.ids[found.leads].tolist(), found.codes.tolist()
    shares = {model: found.micros[model].tolist() for model in MODELS}
    rows = [
        {"lead_id": lead_id, "campaign": campaigns[code],
         **{model: shares[model][k] for model in MODELS}}
        for k, (lead_id, code) in enumerate(zip(ids, codes, strict=True))
    ]  # fmt: skip
    if rows:
        session.connection().execute(_INSERT[dialect_name(session)], rows)


def by_campaign(session: Session, cohort: Cohort, models: tuple[str, ...]) -> list[CampaignCredit]:
    """Each campaign's credit summed over the won cohort leads it touched, in campaign order."""
    columns = [func.sum(getattr(WonCredit, model)) for model in models]
    query = (
        select(WonCredit.campaign, func.count(), *columns)
        .where(of_cohort(WonCredit.lead_id, cohort))
        .group_by(WonCredit.campaign)
        .order_by(WonCredit.campaign)
    )
    return [
        CampaignCredit(row[0], dict(zip(models, map(int, row[2:]), strict=True)), int(row[1]))
        for row in session.connection().execute(query)
    ]
