"""Leads counted by group as they are created, move and go: what the funnel reports sum
instead of passing over every lead, kept by triggers on `leads` (migration 0039)."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base

# The contact fields a playbook may need that are lead columns: each tally counts the leads
# lacking each (`lacking_<field>`), so data quality need not pass over the leads for them.
CONTACT_FIELDS = ("email", "first_name", "last_name", "title", "phone", "country")
# What a tally is grouped by, besides the month of creation.
TALLY_GROUPS = ("source", "medium", "campaign", "persona", "stage", "reached_rank", "outcome")


class LeadTally(Base):
    """A number of leads (negative: leads gone) in one group, with their won revenue and how
    many of them lack each contact field.

    Appended by database triggers on every INSERT and DELETE of a lead and every UPDATE of a
    column counted here (+1 to the new group, -1 to the old), so every writer keeps it right
    without knowing; a group's figures are the sums of its rows. The worker folds appended
    rows into one per group (`folded`), which readers never need to know.
    """

    __tablename__ = "lead_tallies"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str]  # of creation, UTC, YYYY-MM
    source: Mapped[str | None]
    medium: Mapped[str | None]
    campaign: Mapped[str | None]
    persona: Mapped[str | None]
    stage: Mapped[str]
    reached_rank: Mapped[int]
    outcome: Mapped[str | None]
    leads: Mapped[int]
    revenue: Mapped[float]  # the outcome amounts (a lead without one: 0)
    lacking_email: Mapped[int]
    lacking_first_name: Mapped[int]
    lacking_last_name: Mapped[int]
    lacking_title: Mapped[int]
    lacking_phone: Mapped[int]
    lacking_country: Mapped[int]
    folded: Mapped[bool]
