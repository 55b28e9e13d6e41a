"""0053 keeps each stored e-mail in its one form (`addresses.email_identity`), so a lead stored
under another spelling before addresses had one form is found again by any spelling; a lead
whose one form another lead already holds is left as it is (two records to merge)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from leadflow.core.addresses import email_identity
from leadflow.models.db import make_engine, upgrade

LEAD = (
    "INSERT INTO leads (id, email, attributes, stage, fit, engagement, total, contributions,"
    " created_at, updated_at) VALUES (:id, :email, '{}', 'lead', 0, 0, 0, '[]', :at, :at)"
)
AT = datetime(2026, 11, 20, tzinfo=UTC)
STORED = [  # (as stored before, as kept after)
    (1, "ana@xn--mller-kva.de", "ana@müller.de"),
    (2, "jose\u0301@acme.io", "josé@acme.io"),  # decomposed é
    (3, "\uff42\uff45\uff4e@acme.io", "ben@acme.io"),  # fullwidth
    (4, "cy@acme.io.", "cy@acme.io"),
    (5, "dee@acme.io", "dee@acme.io"),  # in its one form already
    (6, "eve@acme.io", "eve@acme.io"),
    (7, "eve@acme.io.", "eve@acme.io."),  # eve@acme.io is lead 6's: left, a duplicate
    (8, None, None),
]


def test_0053_keeps_stored_e_mails_in_their_one_form(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0052")
    with engine.begin() as db:
        for number, email, _ in STORED:
            db.execute(text(LEAD), {"id": number, "email": email, "at": AT})
    upgrade(engine)
    with engine.connect() as db:
        found = db.execute(text("SELECT id, email FROM leads ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in found] == [(n, after) for n, _, after in STORED]
    assert all(after is None or email_identity(after) == after for _, _, after in STORED[:-2])
