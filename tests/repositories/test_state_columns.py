"""The decay pass's moments of change (`state_columns.write_due`) are stored only for leads
still as read (not scored since), in both forms: per row (SQLite, few rows) and from a staging
table (PostgreSQL, many rows)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.engagement_state import epoch_micros
from leadflow.models import Lead
from leadflow.repositories import state_columns
from leadflow.repositories._copy import COPY_FROM
from leadflow.repositories._driver import insert_rows
from leadflow.repositories._sql import table_of
from leadflow.repositories.rule_state import NOT_KNOWN
from tests.repositories.conftest import NOW


@pytest.mark.parametrize("leads", [COPY_FROM // 2, 3 * COPY_FROM], ids=["few", "many"])
def test_only_leads_as_read_take_their_new_moment(session: Session, leads: int) -> None:
    def scored_at(i: int) -> datetime | None:
        return None if i % 5 == 0 else NOW - timedelta(minutes=i)  # some never scored

    insert_rows(session, table_of(Lead), [
        {"id": i, "email": f"p{i}@x.example", "attributes": {}, "stage": "subscriber",
         "fit": 0.0, "engagement": 0.0, "total": 0.0, "contributions": [],
         "scored_at": scored_at(i), "decay_due": NOT_KNOWN, "created_at": NOW,
         "updated_at": NOW}
        for i in range(1, leads + 1)
    ])  # fmt: skip
    ids = list(range(1, leads + 1))
    as_read = {  # what `read` gives: a never scored lead's time as NO_TIME
        "id": ids,
        "decay_due": [10 * i for i in ids],
        "scored_us": [
            state_columns.NO_TIME if (at := scored_at(i)) is None else epoch_micros(at) for i in ids
        ],
    }
    since = session.get(Lead, 3)  # scored since the read: its writer made its moment not known
    assert since is not None
    since.scored_at = NOW
    session.flush()

    state_columns.write_due(session, as_read)

    found = dict(session.execute(select(Lead.id, Lead.decay_due)).all())
    expected = dict(zip(ids, as_read["decay_due"], strict=True))
    expected[3] = NOT_KNOWN
    assert found == expected
