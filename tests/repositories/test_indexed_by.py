"""SQLite's INDEXED BY written into a compiled query, its parameters kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadflow.models.lead import Lead
from leadflow.models.stage_change import StageChange
from leadflow.repositories.indexed_by import indexed_by


def test_the_table_is_read_through_the_index_and_its_parameters_kept() -> None:
    cohort = select(Lead.id).where(Lead.source == "google")
    query = select(StageChange.id).where(StageChange.lead_id.in_(cohort))
    hinted = indexed_by(query, "stage_changes", "ix_x")
    assert "FROM stage_changes INDEXED BY ix_x" in hinted.text
    assert "FROM leads INDEXED" not in hinted.text
    assert [bind.value for bind in hinted._bindparams.values()] == ["google"]
    # The last words of a statement are a reading too.
    assert indexed_by(select(StageChange.id), "stage_changes", "ix_x").text.endswith("ix_x")


def test_a_table_read_twice_is_refused() -> None:
    twice = select(StageChange.id).where(StageChange.id.in_(select(StageChange.lead_id)))
    with pytest.raises(AssertionError, match="one reading of stage_changes"):
        indexed_by(twice, "stage_changes", "ix_x")


def test_a_joined_table_is_read_through_its_own_index() -> None:
    query = select(StageChange.id, Lead.source).join(Lead, Lead.id == StageChange.lead_id)
    hinted = indexed_by(query.where(Lead.source == "google"), "stage_changes", "ix_x",
                        joined={"leads": "ix_y"})  # fmt: skip
    assert "FROM stage_changes INDEXED BY ix_x JOIN leads INDEXED BY ix_y ON" in hinted.text
    assert [bind.value for bind in hinted._bindparams.values()] == ["google"]
    with pytest.raises(AssertionError, match="one reading of accounts"):
        indexed_by(query, "stage_changes", "ix_x", joined={"accounts": "ix_z"})
