"""PostgreSQL's tally trigger for UPDATEs of `leads` without joining old rows to new ones.

0039's statement trigger found the leads an UPDATE moved by joining its transition tables on
id. They carry no statistics, and the planner chose a nested loop: an UPDATE of 480 leads
spent 110 ms in the trigger (the demo's build on PostgreSQL spent about a fifth of its time
there). Now the old rows count -1 and the new rows +1 by every value a tally reads (the
month, the groups, the amount, which contact fields are missing); a lead the UPDATE left
alone cancels itself out in that one hash aggregate, and only what is left is appended. The
tallies it appends add up to the same as before (only the rows that moved, by the same
values), with no join. SQLite's per-row triggers are unchanged.

Revision ID: 0041
Revises: 0039
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported, so later changes to the models do not change what this did.
GROUPS = ["source", "medium", "campaign", "persona", "stage", "reached_rank", "outcome"]
CONTACT = ["email", "first_name", "last_name", "title", "phone", "country"]
COLUMNS = ", ".join(
    ["month", *GROUPS, "leads", "revenue", *(f"lacking_{c}" for c in CONTACT), "folded"]
)
MONTH = "to_char(timezone('UTC', {r}.created_at), 'YYYY-MM')"
KEYS = ["month", *GROUPS, "amount", *(f"no_{c}" for c in CONTACT)]


def _side(table: str, sign: str) -> str:
    """Every row of one transition table by the values a tally reads, with its sign."""
    missing = [f"(r.{c} IS NULL)::integer AS no_{c}" for c in CONTACT]
    values = [f"{MONTH.format(r='r')} AS month", *(f"r.{g}" for g in GROUPS),
              "r.outcome_amount AS amount", *missing, f"{sign}1 AS sign"]  # fmt: skip
    return f"SELECT {', '.join(values)} FROM {table} r"


NET = (
    f"SELECT {', '.join(KEYS)}, sum(sign) AS net"
    f" FROM ({_side('new_rows', '')} UNION ALL {_side('old_rows', '-')}) s"
    f" GROUP BY {', '.join(KEYS)} HAVING sum(sign) <> 0"
)
_SUMS = ["sum(net)", "coalesce(sum(net * amount), 0.0)", *(f"sum(net * no_{c})" for c in CONTACT)]
UPDATE_BODY = (
    f"INSERT INTO lead_tallies ({COLUMNS}) SELECT month, {', '.join(GROUPS)}, {', '.join(_SUMS)},"
    f" FALSE FROM ({NET}) m GROUP BY month, {', '.join(GROUPS)}"
)

# 0039's, to go back to.
_OLD = ", ".join(f"o.{c}" for c in ["created_at", *GROUPS, "outcome_amount", *CONTACT])
_NEW = _OLD.replace("o.", "n.")
_MOVED = (
    "(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id"
    f" WHERE ({_OLD}) IS DISTINCT FROM ({_NEW}))"
)


def _grouped_0039(rows: str, sign: str) -> str:
    groups = ", ".join(f"r.{g}" for g in GROUPS)
    sums = [f"{sign}count(*)", f"{sign}coalesce(sum(r.outcome_amount), 0.0)",
            *(f"{sign}count(*) FILTER (WHERE r.{c} IS NULL)" for c in CONTACT)]  # fmt: skip
    return (
        f"INSERT INTO lead_tallies ({COLUMNS}) SELECT {MONTH.format(r='r')}, {groups},"
        f" {', '.join(sums)}, FALSE FROM {rows} r GROUP BY 1, {groups}"
    )


BODY_0039 = (
    _grouped_0039(_MOVED.format(side="o"), "-") + "; " + _grouped_0039(_MOVED.format(side="n"), "")
)


def _function(body: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION lead_tallies_update() RETURNS trigger AS $$"
        f" BEGIN {body}; RETURN NULL; END; $$ LANGUAGE plpgsql"
    )


def upgrade() -> None:
    """Replace the function the trigger runs (the trigger itself stays)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(UPDATE_BODY))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(BODY_0039))
