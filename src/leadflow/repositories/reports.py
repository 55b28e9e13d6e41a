"""The report queries: aggregation in SQL, so a million leads never become Python objects.

Each returns plain rows (tuples or small lists); the services turn them into reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.core.team_events import TOUCH, TOUCH_SOURCE
from leadflow.models.account import Account
from leadflow.models.event import Event
from leadflow.models.lead import EXIT_GROUPS_INDEX, Lead
from leadflow.models.name_block import SHARED, NameBlock
from leadflow.models.stage_change import EXIT_STAGES, EXITS_INDEX, StageChange
from leadflow.repositories import (
    data_quality,
    erased_reports,
    funnel_counts,
    lead_activity,
    lead_tallies,
    stage_changes,
)
from leadflow.repositories._bulk import dialect_name
from leadflow.repositories.indexed_by import indexed_by
from leadflow.repositories.report_sql import (
    SALES_EVENT_SOURCES,
    event_campaign,
    in_cohort,
    month_of,
    score_band,
    seconds_between,
)

# Dimensions a conversion report can group by, as expressions on leads (and accounts).
DIMENSIONS = ("source", "medium", "campaign", "persona", "tier", "grade", "score_band", "period")
# Bad e-mail addresses read whole from their index and sorted, when at most this many.
FEW_BAD_EMAILS = 5000


def _dimension(session: Session, name: str) -> ColumnElement[Any]:
    columns: dict[str, Any] = {
        "source": Lead.source,
        "medium": Lead.medium,
        "campaign": Lead.campaign,
        "persona": Lead.persona,
        "grade": Lead.grade,
        "tier": Account.tier,
    }
    if name == "score_band":
        return score_band()
    if name == "period":
        return month_of(session, Lead.created_at)
    column: ColumnElement[Any] = columns[name]
    return column


def furthest_by(
    session: Session, cohort: Cohort, by: str | None = None
) -> list[tuple[Any, int, int, float]]:
    """(group, furthest rank, leads, revenue) for the cohort; group is None without `by`."""
    if by is None:
        return [(None, r, n, v) for _, r, n, v in furthest_by_many(session, cohort, [])]
    return [(g[0], r, n, v) for g, r, n, v in furthest_by_many(session, cohort, [by])]


def furthest_by_many(
    session: Session, cohort: Cohort, bys: Sequence[str]
) -> list[tuple[tuple[Any, ...], int, int, float]]:
    """(groups, furthest rank, leads, revenue) by several dimensions in one pass over the
    leads, so a page showing four breakdowns reads the table once; erased leads' counts
    follow as rows of their own (callers sum rows of the same group and rank)."""
    dimensions = [_dimension(session, by) for by in bys]
    found = funnel_counts.furthest_by_many(session, cohort, dimensions, bys)
    # Erased people stay in the counts (anonymously), so funnels before and after add up.
    return found + erased_reports.furthest_by_many(session, cohort, bys)


def lead_to_customer_seconds(session: Session, cohort: Cohort) -> list[float]:
    """Seconds from creation to the win, for the cohort's won leads."""
    query = select(seconds_between(session, Lead.closed_at, Lead.created_at)).where(
        in_cohort(cohort), Lead.outcome == "won", Lead.closed_at.is_not(None)
    )
    return [float(v) for v in session.scalars(query)]


def entries(session: Session, stage: str, start: datetime, end: datetime) -> int:
    """Moves into `stage` in [start, end) (`stage_changes.entries_between`)."""
    return stage_changes.entries_between(session, stage, start, end)


def _exits(cohort: Cohort, *conditions: Any) -> Select[str, str, str | None, str | None, int]:
    """(to_stage, reason, source, campaign, count) of the cohort's moves into nurture or
    disqualified made by people, meeting `conditions`."""
    return (
        select(StageChange.to_stage, StageChange.reason, Lead.source, Lead.campaign, func.count())
        .join(Lead, Lead.id == StageChange.lead_id)
        .where(
            # Literals, the partial index's very terms (EXITS_SQL).
            StageChange.to_stage.in_([literal_column(f"'{s}'") for s in EXIT_STAGES]),
            StageChange.actor != "system",
            *conditions,
            in_cohort(cohort),
        )
        .group_by(StageChange.to_stage, StageChange.reason, Lead.source, Lead.campaign)
    )


def _counted(session: Session, query: Any) -> list[tuple[str, str, str | None, str | None, int]]:
    """An exits query's groups, their counts as ints."""
    return [(a, b, c, d, int(n)) for a, b, c, d, n in session.execute(query)]


def exit_reasons(
    session: Session, cohort: Cohort
) -> list[tuple[str, str, str | None, str | None, int]]:
    """(recycled or disqualified, reason, source, campaign, count) from people's actions."""
    query = _exits(
        cohort,
        # A lost deal also goes to nurture: that is a lost reason, not lead feedback.
        StageChange.from_stage.is_distinct_from("opportunity"),
    )
    if dialect_name(session) == "sqlite":
        # The exits in lead order (SQLite's planner would rather take them by stage, then
        # read each one's row and its lead's at random), and for everyone their leads' groups
        # from the narrow index in the same order (a cohort's filter reads the leads' rows).
        joined = {"leads": EXIT_GROUPS_INDEX} if cohort.is_everyone else None
        hinted = indexed_by(query, "stage_changes", EXITS_INDEX, joined=joined)
        return _counted(session, hinted)
    return _counted(session, query)


def opportunity_exits(
    session: Session, cohort: Cohort
) -> list[tuple[str, str, str | None, str | None, int]]:
    """(to_stage, reason, source, campaign, count) of people's moves out of an opportunity
    into nurture or disqualified, but the close of a lost deal (its move into nurture, made
    when it closed: a lost reason, `lost_reasons`): a deal recycled or disqualified is lead
    feedback. Read apart from `exit_reasons`, whose indexes cover what it reads: these few
    moves need their time and their leads' outcome, read by row."""
    # Not the close of a lost deal (NULL-safe: an open deal has neither).
    not_lost_close = or_(
        Lead.outcome.is_distinct_from("lost"), Lead.closed_at.is_distinct_from(StageChange.at)
    )
    query = _exits(
        cohort, StageChange.from_stage == literal_column("'opportunity'"), not_lost_close
    )
    if dialect_name(session) == "sqlite":
        # The exits' index filters them by stage left before any row is read.
        hinted = indexed_by(query, "stage_changes", EXITS_INDEX)
        return _counted(session, hinted)
    return _counted(session, query)


def lost_reasons(session: Session, cohort: Cohort) -> list[tuple[str | None, int]]:
    """(reason, count) of the cohort's lost deals."""
    query = (
        select(Lead.outcome_reason, func.count())
        .where(in_cohort(cohort), Lead.outcome == "lost")
        .group_by(Lead.outcome_reason)
    )
    return [(reason, int(n)) for reason, n in session.execute(query)]


def closed_scores(
    session: Session, cohort: Cohort
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """The total score and whether it was won, for every closed cohort lead."""
    query = select(Lead.total, Lead.outcome == "won").where(
        in_cohort(cohort), Lead.outcome.in_(["won", "lost"])
    )
    rows = session.execute(query).all()
    scores = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
    won = np.fromiter((bool(r[1]) for r in rows), dtype=np.bool_, count=len(rows))
    return scores, won


def closed_counts(session: Session, cohort: Cohort) -> dict[str, int]:
    """How many cohort leads were won and lost."""
    query = (
        select(Lead.outcome, func.count())
        .where(in_cohort(cohort), Lead.outcome.in_(["won", "lost"]))
        .group_by(Lead.outcome)
    )
    return {str(outcome): int(n) for outcome, n in session.execute(query)}


def touch_feedback(session: Session, cohort: Cohort) -> list[tuple[dict[str, Any], str]]:
    """(properties, the lead's stage now) of every sales touch on a cohort lead."""
    query = (
        select(Event.properties, Lead.stage)
        .join(Lead, Lead.id == Event.lead_id)
        .where(in_cohort(cohort), Event.source == TOUCH_SOURCE, Event.name == TOUCH)
    )
    return [(dict(p or {}), stage) for p, stage in session.execute(query)]


def invalid_emails(
    session: Session, cohort: Cohort, limit: int, found: int
) -> list[tuple[int, str | None]]:
    """The first `limit` cohort leads (by id) whose e-mail is missing or not shaped like an
    address, of the `found` counted. A few thousand are all read from the partial index of
    them (`ix_leads_bad_email`) and the first kept; more, and the leads are read in id order
    until enough turn up (soon, when that many are bad), not all of them sorted."""
    bad = data_quality.bad_email()
    query = select(Lead.id, Lead.email).where(in_cohort(cohort), bad)
    if found <= FEW_BAD_EMAILS:
        return sorted((int(i), e) for i, e in session.execute(query))[:limit]
    return [(int(i), e) for i, e in session.execute(query.order_by(Lead.id).limit(limit))]


def bounced(
    session: Session, cohort: Cohort, names: Sequence[str], limit: int
) -> tuple[int, list[tuple[int, str | None]]]:
    """Cohort leads with an e-mail bounce event: (how many, the first `limit` by id)."""
    bounce = select(Event.lead_id).where(Event.type == "track", Event.name.in_(list(names)))
    where = and_(in_cohort(cohort), Lead.id.in_(bounce))
    count = int(session.scalar(select(func.count()).select_from(Lead).where(where)) or 0)
    if not count:
        return 0, []
    query = select(Lead.id, Lead.email).where(where).order_by(Lead.id).limit(limit)
    return count, [(int(i), e) for i, e in session.execute(query)]


def stale(
    session: Session, cohort: Cohort, before: datetime
) -> tuple[int, list[tuple[int, str | None]]]:
    """Open cohort leads with no event since `before`: (how many, the first 50). Ranges of
    ix_leads_last_event (`lead_activity`), not a look into every open lead's events."""
    open_before = and_(
        in_cohort(cohort),
        Lead.outcome.is_(None),
        Lead.stage.not_in(["customer", "disqualified"]),
        Lead.created_at < before,
    )
    count = sum(
        int(session.scalar(select(func.count()).where(open_before, part)) or 0)
        for part in lead_activity.no_event_since_parts(before)
    )
    where = and_(open_before, lead_activity.no_event_since(before))
    sample = session.execute(select(Lead.id, Lead.email).where(where).order_by(Lead.id).limit(50))
    return count, [(int(i), e) for i, e in sample]


def duplicate_candidates(session: Session, cohort: Cohort, largest: int) -> list[tuple[Any, ...]]:
    """Leads that share a last name and an account with another lead, in blocks of at most
    `largest`: (account, last name, id, email, first name, company). The fuzzy matching
    compares within these blocks, never a million leads pairwise. Only the leads of blocks
    of two or more among all leads (`name_blocks`, kept by triggers) are read: a cohort's
    block of two or more is in one of them."""
    last = func.lower(func.trim(Lead.last_name))
    shared = select(NameBlock.account_id, NameBlock.name_key).where(text(SHARED))
    blocks = (
        select(Lead.account_id, last.label("last"))
        .where(
            in_cohort(cohort),
            Lead.account_id.is_not(None),
            Lead.last_name.is_not(None),
            tuple_(Lead.account_id, last).in_(shared),
        )
        .group_by(Lead.account_id, last)
        .having(func.count().between(2, largest))
        .subquery()
    )
    query = (
        select(
            Lead.account_id, last, Lead.id, Lead.email, Lead.first_name, Lead.last_name,
            Account.name,
        )
        .select_from(blocks)
        .join(Lead, and_(blocks.c.account_id == Lead.account_id, blocks.c.last == last))
        .join(Account, Account.id == Lead.account_id)
        .where(in_cohort(cohort))
        .order_by(Lead.account_id, last, Lead.id)
    )  # fmt: skip
    return [tuple(row) for row in session.execute(query)]


def plan_actuals(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """What happened in [start, end): leads created, moves into MQL, SQL and opportunity (as
    `entries`: what the digest and marketing's SLA count, so a lead qualifying twice counts
    twice), and deals won (visitors: `repositories.visitors.visitors_in`, which counts
    several windows at once)."""
    entered = (
        select(StageChange.to_stage, func.count())
        .where(
            StageChange.to_stage.in_(["mql", "sql", "opportunity"]),
            StageChange.at >= start,
            StageChange.at < end,
            stage_changes.entered(),
        )
        .group_by(StageChange.to_stage)
    )
    won = select(func.count()).where(
        Lead.outcome == "won", Lead.closed_at >= start, Lead.closed_at < end
    )
    counts = {"mql": 0, "sql": 0, "opportunity": 0}
    counts.update({stage: int(n) for stage, n in session.execute(entered)})
    return {
        "lead": created_between(session, start, end),
        **counts,
        "customer": int(session.scalar(won) or 0),
    }


def created_between(session: Session, start: datetime, end: datetime) -> int:
    """Leads created in [start, end): the whole months summed from the tallies, the ragged
    ends counted from the leads."""
    whole, ends = lead_tallies.split_by_months(Cohort(since=start, until=end))
    created = lead_tallies.lacking(session, whole, [])[0] if whole is not None else 0
    for part in ends:
        created += int(session.scalar(select(func.count()).where(in_cohort(part))) or 0)
    return created


def won_between(session: Session, start: datetime, end: datetime, limit: int) -> list[Lead]:
    """The biggest `limit` wins in [start, end)."""
    query = (
        select(Lead)
        .where(Lead.outcome == "won", Lead.closed_at >= start, Lead.closed_at < end)
        .order_by(Lead.outcome_amount.desc(), Lead.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def path_to_win(session: Session, lead_id: int) -> tuple[list[str], list[str]]:
    """(campaigns, content) a lead touched before it closed, earliest first, each once."""
    closed = select(Lead.closed_at).where(Lead.id == lead_id).scalar_subquery()
    campaign = event_campaign()
    content = case((Event.type == "page", Event.path), else_=Event.name)
    query = (
        select(campaign, content)
        .where(
            Event.lead_id == lead_id,
            Event.occurred_at <= func.coalesce(closed, Event.occurred_at),
            Event.source.not_in(SALES_EVENT_SOURCES),
            Event.type.in_(["page", "track"]),
        )
        .order_by(Event.occurred_at, Event.id)
    )
    campaigns: dict[str, None] = {}
    items: dict[str, None] = {}
    for name, item in session.execute(query):
        if name:
            campaigns[name] = None
        if item:
            items[item] = None
    return list(campaigns), list(items)
