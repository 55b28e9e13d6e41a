"""0034 counts the leads stored before it by account and lower-cased, trimmed last name, in
one statement, and its triggers keep the counts from then on (a later insert, rename and
delete)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from leadflow.models.db import make_engine, upgrade

ACCOUNT = (
    "INSERT INTO accounts (id, domain, name, attributes, fit, engagement, total, engaged_leads,"
    " created_at, updated_at) VALUES (:id, :d, :d, '{}', 0, 0, 0, 0, :t, :t)"
)
LEAD = (
    "INSERT INTO leads (id, email, last_name, account_id, attributes, stage, fit, engagement,"
    " total, contributions, created_at, updated_at) VALUES (:id, :e, :n, :a, '{}', 'lead', 0,"
    " 0, 0, '[]', :t, :t)"
)
NOW = "2026-09-01 12:00:00"
# (id, last name, account): two Smiths at 1 however written, one at 2, and leads that no
# block holds (no account, no last name).
LEADS = [(1, "Smith", 1), (2, " SMITH ", 1), (3, "Smith", 2), (4, "Jones", 1),
         (5, "Smith", None), (6, None, 1)]  # fmt: skip


def _blocks(engine: Engine) -> dict[tuple[int, str], int]:
    with engine.connect() as db:
        rows = db.execute(text("SELECT account_id, name_key, leads FROM name_blocks"))
        return {(a, k): n for a, k, n in rows}


def test_0034_counts_the_blocks_then_keeps_them(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    with engine.begin() as db:
        for account in (1, 2):
            db.execute(text(ACCOUNT), {"id": account, "d": f"a{account}.io", "t": NOW})
        for lead, name, account in LEADS:
            db.execute(text(LEAD), {"id": lead, "e": f"l{lead}@x.io", "n": name, "a": account,
                                    "t": NOW})  # fmt: skip
    upgrade(engine)
    assert _blocks(engine) == {(1, "smith"): 2, (2, "smith"): 1, (1, "jones"): 1}
    with engine.begin() as db:
        db.execute(text(LEAD), {"id": 7, "e": "l7@x.io", "n": "jones", "a": 1, "t": NOW})
        db.execute(text("UPDATE leads SET last_name = 'Brown' WHERE id = 3"))
        db.execute(text("DELETE FROM leads WHERE id = 2"))
    assert _blocks(engine) == {(1, "smith"): 1, (1, "jones"): 2, (2, "brown"): 1}
    engine.dispose()
