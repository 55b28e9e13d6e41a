"""0052 gives merge rows written before a merge had its own actor (`merge`) that actor and no
stay, so no report counts such a merge as a second entry into a stage (the duplicate's own
move into it came over with its history). A person's action with any other reason is left."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from leadflow.models.db import make_engine, upgrade

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (1, 'a@x.io', '{}', 'customer', 0, 0, 0, '[]', :at, :at)"
)
MOVE = (
    "INSERT INTO stage_changes (id, lead_id, from_stage, to_stage, at, previous_entered_at,"
    " reason, actor) VALUES (:id, 1, :frm, :to, :at, :since, :reason, :actor)"
)
AT = datetime(2026, 11, 20, tzinfo=UTC)
ROWS = [
    # The duplicate's own move into customer, come over with its history: left.
    (1, "opportunity", "customer", "won the deal", "ana"),
    # The merge's row as written before: the merging person, a stay closed.
    (2, "mql", "customer", "merged with bo@x.io, which was customer", "ana"),
    # A person's recycle whose reason merely mentions a merge: left.
    (3, "customer", "nurture", "merged with the parent account's deal", "cy"),
]


def test_0052_gives_old_merge_rows_the_merges_actor_and_no_stay(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0050")
    upgrade(engine, "0051")
    with engine.begin() as db:
        db.execute(text(LEAD), {"at": AT})
        for number, frm, to, reason, actor in ROWS:
            db.execute(text(MOVE), {"id": number, "frm": frm, "to": to, "at": AT, "since": AT,
                                    "reason": reason, "actor": actor})  # fmt: skip
    upgrade(engine)
    with engine.connect() as db:
        found = db.execute(
            text("SELECT actor, previous_entered_at IS NULL FROM stage_changes ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in found] == [("ana", False), ("merge", True), ("cy", False)]
