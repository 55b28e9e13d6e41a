"""The facts of many leads at once for bulk stage moves and scoring: their stored score and
stage, with their own and their accounts' fact columns (`core.facts`), or only what stage
criteria on the score read, as rows or as columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.facts import ACCOUNT_COLUMNS, LEAD_COLUMNS
from leadflow.models.account import Account
from leadflow.models.lead import Lead
from leadflow.repositories._driver import select_columns, select_dicts
from leadflow.repositories._sql import chunked

# The columns a lead's facts are made of (`core.facts`), read for stage moves in bulk.
LEAD_FACTS = (*LEAD_COLUMNS, "attributes")
ACCOUNT_FACTS = (*ACCOUNT_COLUMNS, "attributes")


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """A lead's stored score and stage, with its own and its account's rows (see
    `core.facts.facts_of`): all their fact columns, or only e-mail and probability."""

    id: int
    account_id: int | None
    stage: str
    fit: float
    engagement: float
    total: float
    grade: str | None
    persona: str | None
    recycle_until: datetime | None
    lead_facts: dict[str, Any]
    account_facts: dict[str, Any]


def ids_and_facts(session: Session, *, lead_ids: Iterable[int] | None = None) -> list[LeadFacts]:
    """Every lead (or those listed) with its account, for a bulk re-score; ordered by id."""
    if lead_ids is None:
        return _facts(session, None)
    return [row for batch in chunked(sorted(set(lead_ids))) for row in _facts(session, batch)]


def stage_candidates(
    session: Session,
    *,
    stages: Sequence[str],
    lead_ids: Iterable[int] | None = None,
    with_facts: bool = True,
) -> list[LeadFacts]:
    """Leads in the given stages (all, or those listed), for automatic moves.

    Without `with_facts` only the stored score and the e-mail are read: much cheaper, and
    all a playbook needs whose stage criteria look at scores alone.
    """
    read = _facts if with_facts else _score_facts
    if lead_ids is None:
        return read(session, None, stages)
    batches = chunked(sorted(set(lead_ids)))
    return [row for batch in batches for row in read(session, batch, stages)]


def _score_facts(
    session: Session, lead_ids: list[int] | None, stages: Sequence[str] | None = None
) -> list[LeadFacts]:
    columns = score_columns(session, stages=stages, lead_ids=lead_ids)
    return score_facts_of(columns, range(len(columns["id"])))


# What a lead's stored score offers stage criteria, read for stage moves in bulk.
_SCORE_FACTS = (
    *(Lead.id, Lead.account_id, Lead.stage, Lead.fit, Lead.engagement, Lead.total, Lead.grade),
    *(Lead.persona, Lead.recycle_until, Lead.email, Lead.probability),
)


def score_columns(
    session: Session, *, stages: Sequence[str] | None, lead_ids: Iterable[int] | None = None
) -> dict[str, list[Any]]:
    """The leads in these stages (all, or those listed), by id: their stored score, stage,
    recycling time, e-mail and probability, as columns (`_SCORE_FACTS`)."""
    query = select(*_SCORE_FACTS).order_by(Lead.id)
    if stages is not None:
        query = query.where(Lead.stage.in_(list(stages)))
    if lead_ids is None:
        return select_columns(session, query)
    found: dict[str, list[Any]] = {column.key: [] for column in _SCORE_FACTS}
    for batch in chunked(sorted(set(lead_ids))):
        for name, values in select_columns(session, query.where(Lead.id.in_(batch))).items():
            found[name] += values
    return found


def score_facts_of(columns: dict[str, list[Any]], rows: Iterable[int]) -> list[LeadFacts]:
    """The `LeadFacts` (score, e-mail and probability) of these rows of `score_columns`."""
    c = columns
    return [
        LeadFacts(
            id=c["id"][k], account_id=c["account_id"][k], stage=c["stage"][k], fit=c["fit"][k],
            engagement=c["engagement"][k], total=c["total"][k], grade=c["grade"][k],
            persona=c["persona"][k], recycle_until=c["recycle_until"][k],
            lead_facts={"email": c["email"][k], "probability": c["probability"][k]},
            account_facts={},
        )
        for k in rows
    ]  # fmt: skip


def _facts(
    session: Session, lead_ids: list[int] | None, stages: Sequence[str] | None = None
) -> list[LeadFacts]:
    lead_columns = [getattr(Lead, name) for name in LEAD_FACTS]
    account_columns = [getattr(Account, name).label(f"a_{name}") for name in ACCOUNT_FACTS]
    account_columns.append(Account.total.label("a_score"))  # core.facts.ACCOUNT_SCORE
    query = (
        select(
            Lead.id,
            Lead.account_id,
            Lead.stage,
            Lead.fit,
            Lead.engagement,
            Lead.total,
            Lead.grade,
            Lead.persona,
            Lead.recycle_until,
            *lead_columns,
            *account_columns,
        )
        .outerjoin(Account, Lead.account_id == Account.id)
        .order_by(Lead.id)
    )
    if lead_ids is not None:
        query = query.where(Lead.id.in_(lead_ids))
    if stages is not None:
        query = query.where(Lead.stage.in_(list(stages)))
    return [_row_facts(row) for row in select_dicts(session, query)]


def _row_facts(row: Any) -> LeadFacts:
    has_account = row["account_id"] is not None
    return LeadFacts(
        id=row["id"],
        account_id=row["account_id"],
        stage=row["stage"],
        fit=row["fit"],
        engagement=row["engagement"],
        total=row["total"],
        grade=row["grade"],
        persona=row["persona"],
        recycle_until=row["recycle_until"],
        lead_facts={name: row[name] for name in LEAD_FACTS},
        account_facts=(
            {n: row[f"a_{n}"] for n in (*ACCOUNT_FACTS, "score")} if has_account else {}
        ),
    )
