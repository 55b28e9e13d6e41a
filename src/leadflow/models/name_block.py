"""Leads counted by account and normalised last name: the data-quality report's blocks of
likely duplicates, kept by triggers on `leads` (migration 0034)."""

from __future__ import annotations

from sqlalchemy import Index, text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base

# Blocks of two leads or more: the only ones that can hold a duplicate (a small index). The
# key is `lower(trim(last_name))`, the same SQL in the triggers and in the report's query
# (`repositories/reports.duplicate_candidates`), so each engine agrees with itself.
SHARED = "leads > 1"


class NameBlock(Base):
    """How many leads of an account have this last name (lower-cased, trimmed).

    Kept by database triggers on every INSERT, DELETE and UPDATE of `account_id` or
    `last_name` of a lead, so every writer (the pipeline, /api edits, imports, merges,
    erasure, an account's deletion setting `account_id` NULL) keeps it right without knowing.
    """

    __tablename__ = "name_blocks"
    __table_args__ = (
        Index(
            "ix_name_blocks_shared",
            "account_id",
            "name_key",
            sqlite_where=text(SHARED),
            postgresql_where=text(SHARED),
        ),
    )

    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name_key: Mapped[str] = mapped_column(primary_key=True)
    leads: Mapped[int]
