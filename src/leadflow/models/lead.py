"""Leads: people, their first touch, their score and where they are in the funnel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, false, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from leadflow.core.scoring import score_band
from leadflow.models.db import Base
from leadflow.models.types import utcnow

# What the funnel reports read of a lead (`repositories/reports.furthest_by_many`), creation
# first: a period's cohort is a range of it.
WON_PATHS_INDEX = "ix_leads_won_paths"
WON_PATHS_COLUMNS = ("outcome", "id", "created_at", "closed_at", "outcome_amount", "campaign")
# The score band, not the total: the worker's decay pass moves tens of thousands of totals every
# few minutes and rarely a band, so this wide index is rewritten only when a band or a grade
# moves (migration 0046).
REPORT_COLUMNS = ("created_at", "stage", "reached_rank", "outcome", "outcome_amount", "source",
                  "medium", "campaign", "persona", "grade", "score_band")  # fmt: skip
REPORTS_INDEX = "ix_leads_reports"
# The conversion dimensions that are plain columns of a lead: with the month of creation, what
# `lead_tallies` counts leads by (migration 0039), so the funnel reports sum tallies.
PEOPLE_COLUMNS = ("source", "medium", "campaign", "persona")
# What the stale-lead count reads (`repositories/reports.stale`).
ACTIVITY_COLUMNS = ("last_event_at", "created_at", "stage", "outcome")
# What the data-quality report counts (`repositories/data_quality`): the cohort's columns,
# creation first, then the fields a playbook may need and the e-mail. Not the persona, which
# scoring writes (migration 0048): a bulk scoring would rebuild this wide index for it.
QUALITY_COLUMNS = ("created_at", "account_id", "source", "medium", "campaign",
                   "email", "first_name", "last_name", "title", "phone", "country")  # fmt: skip
# An e-mail address missing or not shaped like one, as SQL: the predicate of the partial index
# `ix_leads_bad_email` and, written the same, the data-quality report's condition (the index
# serves a query only when its WHERE holds this very text, literals and all).
BAD_EMAIL_PATTERNS = ("%_@_%._%", "% %", "%@%@%")
BAD_EMAIL_SQL = "email IS NULL OR email NOT LIKE '{}' OR email LIKE '{}' OR email LIKE '{}'".format(
    *BAD_EMAIL_PATTERNS
)
# What the quality report groups people's exits by, for each lead by id: its pages hold some
# hundred leads each against a handful of wide rows, so the exits' leads are found in a few
# thousand pages instead of one each (`repositories/reports.exit_reasons`).
EXIT_GROUPS_INDEX = "ix_leads_exit_groups"
EXIT_GROUPS_COLUMNS = ("id", "source", "campaign")
# What the fallen-through report reads of a sales-ready lead (`repositories/fallen_through`).
CRACKS_COLUMNS = ("stage", "owner", "email", "stage_changed_at")


def _band_of_total(context: Any) -> int:
    """An inserted lead's score band, from the total it is given (0 without one)."""
    total = context.get_current_parameters().get("total")
    return score_band(total) if total is not None else 0


class Lead(Base):
    """A person; stage holds a `leadflow.core.stages.Stage` value."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_stage_total", "stage", "total"),
        Index("ix_leads_account_last_name", "account_id", "last_name"),
        # "Changed since" for CRM syncs (the lead_scores view, `leadflow export leads --since`).
        Index("ix_leads_updated_at", "updated_at", "id"),
        # Covering for the funnel reports (cohort by creation, furthest stage, revenue, the
        # dimensions they group by): one pass reads this, not the wide rows (their JSON).
        Index(REPORTS_INDEX, *REPORT_COLUMNS),
        # Closed leads by outcome and time (calibration, drift, the plan's wins), with the score;
        # closed leads only, so a score written for an open lead has no entry here to update.
        Index(
            "ix_leads_closed",
            "outcome",
            "closed_at",
            "total",
            sqlite_where=text("outcome IS NOT NULL"),
            postgresql_where=text("outcome IS NOT NULL"),
        ),
        # A lead's source and campaign by id, narrow (`EXIT_GROUPS_COLUMNS`): what the quality
        # report groups people's exits by, read in id order (migration 0036).
        Index(EXIT_GROUPS_INDEX, *EXIT_GROUPS_COLUMNS),
        # Closed leads by outcome and its reason: the lost reasons (the quality report) are one
        # range of it, already grouped (migration 0036).
        Index(
            "ix_leads_outcome_reasons",
            "outcome",
            "outcome_reason",
            sqlite_where=text("outcome IS NOT NULL"),
            postgresql_where=text("outcome IS NOT NULL"),
        ),
        # Covering for attribution's read of the won leads, in id order (`WON_PATHS_COLUMNS`).
        Index(
            WON_PATHS_INDEX,
            *WON_PATHS_COLUMNS,
            sqlite_where=text("outcome IS NOT NULL"),
            postgresql_where=text("outcome IS NOT NULL"),
        ),
        # Activity (`repositories/lead_activity.py`): stale leads (data quality) are a range
        # of the latest event's time, visiting leads (the plan) one of the latest page view's.
        Index("ix_leads_last_event", *ACTIVITY_COLUMNS),
        Index("ix_leads_last_page_view", "last_page_view_at", "id"),
        # Covering for data quality's pass over a cohort's lead fields (not the wide rows).
        Index("ix_leads_quality", *QUALITY_COLUMNS),
        # Bad e-mail addresses (data quality): the few leads that have one, not a pass over all.
        Index(
            "ix_leads_bad_email",
            "created_at",
            "email",
            sqlite_where=text(BAD_EMAIL_SQL),
            postgresql_where=text(BAD_EMAIL_SQL),
        ),
        # Covering for the fallen-through report: a stage's leads without their wide rows
        # (PostgreSQL's holds the ids too, migration 0038; SQLite's hold the rowid anyway).
        Index("ix_leads_cracks", *CRACKS_COLUMNS, postgresql_include=["id"]),
        # The decay pass's search for the leads due (only leads with engagement states).
        Index(
            "ix_leads_decay_due",
            "decay_due",
            sqlite_where=text("decay_due IS NOT NULL"),
            postgresql_where=text("decay_due IS NOT NULL"),
        ),
        CheckConstraint("outcome IN ('won', 'lost')", name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(unique=True)
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    title: Mapped[str | None]
    phone: Mapped[str | None]
    country: Mapped[str | None]
    source: Mapped[str | None]
    medium: Mapped[str | None]
    campaign: Mapped[str | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Indexed by ix_leads_account_last_name (account first: an account's people; with the last
    # name: the blocks the duplicate finder compares).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # How the lead was matched to its account (1.0 by domain, less by a fuzzy company name),
    # and why: `services.companies`.
    account_confidence: Mapped[float | None]
    account_reason: Mapped[str | None]
    # Indexed by ix_leads_stage_total, whose leading column is stage.
    stage: Mapped[str] = mapped_column(default="subscriber")
    stage_changed_at: Mapped[datetime | None]
    # The furthest funnel rank the lead has been in (-1: none yet); with the current stage it
    # gives the funnel reports their "reached" without reading the history.
    reached_rank: Mapped[int] = mapped_column(default=-1, server_default="-1")
    fit: Mapped[float] = mapped_column(default=0.0)
    engagement: Mapped[float] = mapped_column(default=0.0)
    total: Mapped[float] = mapped_column(default=0.0, index=True)
    # `core.scoring.score_band` of the total, written with it (see REPORT_COLUMNS): set by
    # `_keeps_band` when the ORM sets a total, from the total on insert, and by the bulk
    # writers (`repositories/rescoring.write_lead_scores`) themselves.
    score_band: Mapped[int] = mapped_column(default=_band_of_total, server_default="0")
    grade: Mapped[str | None]
    persona: Mapped[str | None] = mapped_column(index=True)
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # The active model's chance that the lead converts, and the reasons that weigh most.
    probability: Mapped[float | None]
    probability_reasons: Mapped[list[str] | None]
    # The model's log-odds, split by feature: {"base": b, "contributions": {feature: log-odds}},
    # b plus the contributions is the probability's logit exactly (before rounding it).
    probability_contributions: Mapped[dict[str, Any] | None]
    scored_at: Mapped[datetime | None]
    recycle_until: Mapped[datetime | None]
    owner: Mapped[str | None]
    outcome: Mapped[str | None]
    outcome_reason: Mapped[str | None]
    outcome_amount: Mapped[float | None]
    closed_at: Mapped[datetime | None]
    # Consent: no new behaviour (events) is stored or scored for the lead while it is set.
    do_not_track: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The time of the lead's latest event and latest page view (NULL: none), read back from
    # its events by every writer that changes which events it has (`lead_activity`).
    last_event_at: Mapped[datetime | None]
    last_page_view_at: Mapped[datetime | None]
    # A moment (epoch microseconds) before which the points of the lead's engagement states
    # cannot change without new events: the earliest of its states' (`core.bulk_state.
    # changes_at`); 0: not known yet (a writer of its states sets it so, the next decay pass
    # reads the lead and sets it); NULL: no states. Written by `repositories/rule_state` and
    # the decay pass, never through the ORM.
    decay_due: Mapped[int | None] = mapped_column(BigInteger)

    @validates("total")
    def _keeps_band(self, _key: str, total: float | None) -> float | None:
        """A total set through the ORM (live scoring, a test's lead) brings its band along."""
        self.score_band = score_band(total) if total is not None else 0
        return total
