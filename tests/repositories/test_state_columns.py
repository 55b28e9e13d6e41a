"""The decay pass's moments of change (`state_columns.write_changes`) are stored only where
the state is still the one read, in both forms: per row (SQLite, few rows) and from a staging
table (PostgreSQL, many rows)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.models import Lead, RuleState
from leadflow.repositories import state_columns
from leadflow.repositories._copy import COPY_FROM
from leadflow.repositories._driver import insert_rows
from leadflow.repositories._sql import table_of
from tests.repositories.conftest import NOW


def _state(lead_id: int, rule_id: str) -> dict[str, Any]:
    decayed = lead_id % 2 == 0
    return {
        "lead_id": lead_id,
        "rule_id": rule_id,
        "rule_key": "k",
        "count": lead_id,
        "band": 11 if decayed else None,
        "anchored": lead_id / 3 if decayed else None,
        "window_from": None if decayed else 1_000_000 * lead_id,
        "partials": [[], []],
        "latest": [],
        "changes_at": None,
    }


@pytest.mark.parametrize("leads", [COPY_FROM // 2, 3 * COPY_FROM], ids=["few", "many"])
def test_only_states_as_read_take_their_new_moment(session: Session, leads: int) -> None:
    insert_rows(session, table_of(Lead), [
        {"id": i, "email": f"p{i}@x.example", "attributes": {}, "stage": "subscriber",
         "fit": 0.0, "engagement": 0.0, "total": 0.0, "contributions": [],
         "created_at": NOW, "updated_at": NOW}
        for i in range(1, leads + 1)
    ])  # fmt: skip
    states = [_state(i, rule) for i in range(1, leads + 1) for rule in ("a", "*")]
    insert_rows(session, table_of(RuleState), states)
    as_read = {  # what `read` gives: NULLs as 0, 0.0 and NO_TIME
        "lead_id": [s["lead_id"] for s in states],
        "rule_id": [s["rule_id"] for s in states],
        "rule_key": ["k"] * len(states),
        "count": [s["count"] for s in states],
        "band": [s["band"] or 0 for s in states],
        "anchored": [s["anchored"] or 0.0 for s in states],
        "window_from": [s["window_from"] or state_columns.NO_TIME for s in states],
        "changes_at": [10 * s["lead_id"] + (s["rule_id"] == "a") for s in states],
    }
    folded = session.get(RuleState, (3, "a"))  # an event folded since the read
    assert folded is not None
    folded.count += 1
    session.flush()

    state_columns.write_changes(session, as_read)

    stored = select(RuleState.lead_id, RuleState.rule_id, RuleState.changes_at)
    found = {(i, r): c for i, r, c in session.execute(stored).all()}
    keys = zip(as_read["lead_id"], as_read["rule_id"], strict=True)
    expected = dict(zip(keys, as_read["changes_at"], strict=True))
    expected[(3, "a")] = None  # its writer's: not known yet
    assert found == expected
