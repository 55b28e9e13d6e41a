"""Won leads' credit per campaign under each attribution model (`won_credit`), so the
attribution report adds up rows in SQL instead of weighing every touch on every call
(`repositories/won_credit.py` keeps them).

A new table, filled in from the won leads, their opportunity moves and their kept touches
(`won_touches`, migration 0032, hence this revision's parent), a few thousand leads at a
time. The weights are computed by `core.attribution_credit` (pure, no models): one
definition of the attribution models, not a copy in this file; a later change to those
models changes what the report would compute, and needs a migration that refills this table.

Revision ID: 0037
Revises: 0032
Create Date: 2026-11-29
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

from leadflow.core.attribution import DEFAULT_HALF_LIFE_DAYS, MODELS, NEVER
from leadflow.core.attribution_credit import NO_CLOSE, credit, won_paths

revision: str = "0037"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "won_credit"
BATCH = 5000


def _micros(column: str, postgresql: bool) -> str:
    """A timestamp column as integer microseconds (as `repositories._bulk.epoch_micros`)."""
    if postgresql:
        return f"CAST(extract(epoch FROM {column}) * 1000000 AS BIGINT)"
    return (
        f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column} || '000000', 21, 6) AS INTEGER)"
    )


def _create() -> None:
    op.create_table(
        TABLE,
        sa.Column("campaign", sa.String(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        *(sa.Column(model, sa.BigInteger(), nullable=False) for model in MODELS),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_won_credit_lead_id_leads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("campaign", "lead_id", name="pk_won_credit"),
        sqlite_with_rowid=False,
    )


def _fill(bind: sa.Connection) -> None:
    postgresql = bind.dialect.name == "postgresql"
    leads = sa.text(
        "SELECT id, coalesce(outcome_amount, 0.0), campaign, "
        f"{_micros('created_at', postgresql)}, {_micros('closed_at', postgresql)} "
        "FROM leads WHERE outcome = 'won' ORDER BY id"
    )
    won = [tuple(row) for row in bind.execute(leads)]
    opened = sa.text(
        f"SELECT lead_id, {_micros('at', postgresql)} FROM stage_changes "
        "WHERE to_stage = 'opportunity'"
    )
    latest: dict[int, int] = {}
    for lead_id, at in bind.execute(opened):
        latest[lead_id] = max(latest.get(lead_id, at), at)
    table = sa.table(TABLE, sa.column("campaign"), sa.column("lead_id"),
                     *(sa.column(model) for model in MODELS))  # fmt: skip
    for start in range(0, len(won), BATCH):
        batch = won[start : start + BATCH]
        rows = _rows(bind, batch, latest)
        if rows:
            bind.execute(table.insert(), rows)


def _rows(
    bind: sa.Connection, batch: list[tuple[Any, ...]], latest: dict[int, int]
) -> list[dict[str, object]]:
    ids = [int(str(r[0])) for r in batch]
    touches = sa.text("SELECT lead_id, times, campaigns FROM won_touches WHERE lead_id IN :ids")
    kept = list(bind.execute(touches.bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids}))
    counts = [len(json.loads(str(r[1]))) for r in kept]
    touch_ids = np.repeat(np.array([r[0] for r in kept], dtype=np.int64), counts)
    times = np.array(list(chain.from_iterable(json.loads(str(r[1])) for r in kept)), np.int64)
    names = list(chain.from_iterable(json.loads(str(r[2])) for r in kept))
    paths, campaigns = won_paths(
        ids,
        np.array([r[3] for r in batch], dtype=np.int64),
        np.array([latest.get(i, NEVER) for i in ids], dtype=np.int64),
        np.array([NO_CLOSE if r[4] is None else r[4] for r in batch], dtype=np.int64),
        np.array([float(str(r[1])) for r in batch], dtype=np.float64),
        [None if r[2] is None else str(r[2]) for r in batch],
        (touch_ids, names, times),
    )
    found = credit(paths, MODELS, DEFAULT_HALF_LIFE_DAYS)
    return [
        {"campaign": campaigns[code], "lead_id": ids[lead],
         **{model: int(found.micros[model][k]) for model in MODELS}}
        for k, (lead, code) in enumerate(zip(found.leads.tolist(), found.codes.tolist(),
                                             strict=True))
    ]  # fmt: skip


def upgrade() -> None:
    """Create the table and fill it in, then index it by lead (for a lead's refresh)."""
    _create()
    bind = op.get_bind()
    _fill(bind)
    op.create_index("ix_won_credit_lead_id", TABLE, ["lead_id"])


def downgrade() -> None:
    op.drop_table(TABLE)
