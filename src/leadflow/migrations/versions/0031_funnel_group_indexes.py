"""Indexes in the order the funnel reports group leads, so SQLite reads the groups in order
instead of sorting every lead (`repositories/funnel_counts.py`).

`ix_leads_funnel_people` (source, medium, campaign, persona, then stage, reached_rank,
outcome and amount) on both engines: conversion by any of the four.
`ix_leads_funnel_months` on SQLite only: the month of creation is a substring of the stored
text there (`substr(created_at, 1, 7)`), then stage, reached_rank, outcome and amount
(narrow: a wider one, holding the cohort filters too, doubled the cost of a stage move);
PostgreSQL, whose month is not an expression it may index, groups by hashing. Indexes only,
built without blocking writers on PostgreSQL (`CONCURRENTLY`, outside the transaction): safe
on a live database.

Revision ID: 0031
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
PEOPLE = "ix_leads_funnel_people"
PEOPLE_COLUMNS = ["source", "medium", "campaign", "persona", "stage", "reached_rank", "outcome",
                  "outcome_amount"]  # fmt: skip
MONTHS = "ix_leads_funnel_months"
MONTHS_SQL = (
    f"CREATE INDEX IF NOT EXISTS {MONTHS} ON leads (substr(created_at, 1, 7), stage,"
    " reached_rank, outcome, outcome_amount)"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """Build them (concurrently on PostgreSQL)."""
    if _postgresql():
        with op.get_context().autocommit_block():
            op.create_index(
                PEOPLE, "leads", PEOPLE_COLUMNS, if_not_exists=True,
                postgresql_concurrently=True,
            )  # fmt: skip
        return
    op.create_index(PEOPLE, "leads", PEOPLE_COLUMNS, if_not_exists=True)
    op.execute(MONTHS_SQL)


def downgrade() -> None:
    """Drop them."""
    op.drop_index(PEOPLE, table_name="leads", if_exists=True)
    if not _postgresql():
        op.drop_index(MONTHS, table_name="leads", if_exists=True)
