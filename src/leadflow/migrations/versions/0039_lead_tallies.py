"""Leads counted as they move: `lead_tallies`, kept by triggers on `leads`, so the funnel,
conversion, cohorts, the plan and data quality sum a few thousand rows instead of passing over
every lead (`repositories/lead_tallies.py`).

A tally row is a number of leads (and their won revenue, and how many lack each contact
field) in one group: the month of creation (UTC, `YYYY-MM`), source, medium, campaign,
persona, stage, furthest rank and outcome. The triggers only ever append: a lead created adds
+1 to its group, a lead deleted -1, a lead moved -1 to the old group and +1 to the new. Readers
sum the rows of a group; the worker folds the appended rows into one per group now and then.
Appending takes no lock on a shared row, so concurrent writers (several server processes on
PostgreSQL) never wait for, or deadlock on, each other's tallies.

Triggers, not the writers, for the reason of 0034: every path that creates, moves, edits or
deletes a lead (the pipeline, edits, imports, merges, erasure, a script's UPDATE) is seen.
SQLite: one trigger per row, an UPDATE's only when a counted column changed. PostgreSQL: one
per statement, over the statement's transition tables, so a re-score updating a million leads
appends its changes grouped, in one INSERT, not a million times.

On PostgreSQL the triggers and the first tallies (one INSERT ... SELECT grouped) are made in
one transaction: CREATE TRIGGER locks out writers of `leads` until it commits, so no lead is
missed or counted twice. Then the indexes the reports read the groups from before
(`ix_leads_funnel_people`, and SQLite's `ix_leads_funnel_months`, PostgreSQL's
`ix_leads_funnel_months_pg`) are dropped: nothing reads them any more, and every index of
`leads` is a cost on every write of a lead (on PostgreSQL `CONCURRENTLY`, outside the
transaction, so writers are not blocked).

Revision ID: 0039
Revises: 0031, 0035
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | tuple[str, ...] | None = ("0031", "0035")  # the indexes it replaces
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
GROUPS = ["source", "medium", "campaign", "persona", "stage", "reached_rank", "outcome"]
CONTACT = ["email", "first_name", "last_name", "title", "phone", "country"]
WATCHED = ["created_at", *GROUPS, "outcome_amount", *CONTACT]
COLUMNS = ", ".join(
    ["month", *GROUPS, "leads", "revenue", *(f"lacking_{c}" for c in CONTACT), "folded"]
)
SQLITE_MONTH = "substr({r}.created_at, 1, 7)"
PG_MONTH = "to_char(timezone('UTC', {r}.created_at), 'YYYY-MM')"


def _one_row(row: str, sign: str) -> str:
    """SQLite: the tally of one lead (`row` NEW or OLD), added or taken (`sign`)."""
    values = [SQLITE_MONTH.format(r=row), *(f"{row}.{g}" for g in GROUPS), f"{sign}1",
              f"{sign}coalesce({row}.outcome_amount, 0.0)",
              *(f"{sign}({row}.{c} IS NULL)" for c in CONTACT), "0"]  # fmt: skip
    return f"INSERT INTO lead_tallies ({COLUMNS}) VALUES ({', '.join(values)});"


def _grouped(rows: str, sign: str, month: str, *, folded: str = "FALSE") -> str:
    """The tallies of many leads (`rows`, a table or subquery named r), grouped."""
    groups = ", ".join(f"r.{g}" for g in GROUPS)
    sums = [f"{sign}count(*)", f"{sign}coalesce(sum(r.outcome_amount), 0.0)",
            *(f"{sign}count(*) FILTER (WHERE r.{c} IS NULL)" for c in CONTACT)]  # fmt: skip
    return (
        f"INSERT INTO lead_tallies ({COLUMNS}) SELECT {month.format(r='r')}, {groups},"
        f" {', '.join(sums)}, {folded} FROM {rows} r GROUP BY 1, {groups}"
    )


_CHANGED_SQLITE = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER lead_tallies_insert AFTER INSERT ON leads BEGIN {_one_row('NEW', '')} END",
    f"CREATE TRIGGER lead_tallies_delete AFTER DELETE ON leads BEGIN {_one_row('OLD', '-')} END",
    f"CREATE TRIGGER lead_tallies_update AFTER UPDATE OF {', '.join(WATCHED)} ON leads"
    f" WHEN {_CHANGED_SQLITE} BEGIN {_one_row('OLD', '-')} {_one_row('NEW', '')} END",
]
_OLD = ", ".join(f"o.{c}" for c in WATCHED)
_NEW = ", ".join(f"n.{c}" for c in WATCHED)
# The leads an UPDATE statement moved between groups (or whose counted fields changed).
_MOVED = (
    "(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id"
    f" WHERE ({_OLD}) IS DISTINCT FROM ({_NEW}))"
)
PG_FUNCTIONS = {
    "insert": _grouped("new_rows", "", PG_MONTH),
    "delete": _grouped("old_rows", "-", PG_MONTH),
    "update": _grouped(_MOVED.format(side="o"), "-", PG_MONTH)
    + "; "
    + _grouped(_MOVED.format(side="n"), "", PG_MONTH),
}
PG_TABLES = {"insert": "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows",
             "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}  # fmt: skip


def _pg_trigger(event: str) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION lead_tallies_{event}() RETURNS trigger AS $$"
        f" BEGIN {PG_FUNCTIONS[event]}; RETURN NULL; END; $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER lead_tallies_{event} AFTER {event.upper()} ON leads"
        f" REFERENCING {PG_TABLES[event]} FOR EACH STATEMENT"
        f" EXECUTE FUNCTION lead_tallies_{event}()",
    ]


OLD_INDEXES = {
    "ix_leads_funnel_people": "postgresql sqlite",
    "ix_leads_funnel_months": "sqlite",
    "ix_leads_funnel_months_pg": "postgresql",
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """The table, its triggers and first tallies in one transaction; then the old indexes go."""
    contact = [sa.Column(f"lacking_{c}", sa.Integer(), nullable=False) for c in CONTACT]
    op.create_table(
        "lead_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(), nullable=False),
        *(sa.Column(g, sa.String(), nullable=True) for g in ("source", "medium", "campaign")),
        sa.Column("persona", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("reached_rank", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Double(), nullable=False),
        *contact,
        sa.Column("folded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_tallies")),
    )
    if _postgresql():
        for event in PG_FUNCTIONS:
            for statement in _pg_trigger(event):
                op.execute(statement)
        op.execute(_grouped("leads", "", PG_MONTH, folded="TRUE"))
        with op.get_context().autocommit_block():
            for name, engines in OLD_INDEXES.items():
                if "postgresql" in engines:
                    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        return
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(_grouped("leads", "", SQLITE_MONTH, folded="1"))
    for name, engines in OLD_INDEXES.items():
        if "sqlite" in engines:
            op.drop_index(name, table_name="leads", if_exists=True)


def downgrade() -> None:
    """The old indexes back (as 0031 and 0035 made them); the table and triggers gone."""
    people = ["source", "medium", "campaign", "persona", "stage", "reached_rank", "outcome",
              "outcome_amount"]  # fmt: skip
    if _postgresql():
        for event in PG_FUNCTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS lead_tallies_{event} ON leads")
            op.execute(f"DROP FUNCTION IF EXISTS lead_tallies_{event}()")
        op.drop_table("lead_tallies")
        # In the transaction (a downgrade through a merge of two branches has none to leave).
        op.create_index("ix_leads_funnel_people", "leads", people, if_not_exists=True)
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_leads_funnel_months_pg ON leads"
            " ((date_trunc('month', timezone('UTC', created_at))), stage, reached_rank,"
            " outcome, outcome_amount) INCLUDE (created_at)"
        )
        return
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS lead_tallies_{event}")
    op.drop_table("lead_tallies")
    op.create_index("ix_leads_funnel_people", "leads", people, if_not_exists=True)
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_leads_funnel_months ON leads (substr(created_at, 1, 7),"
        " stage, reached_rank, outcome, outcome_amount)"
    )
