"""Staff edits of a lead while a merge folds it into another, or an erasure deletes it
(several server processes on PostgreSQL; SQLite has one writer at a time, so there the merge
or erasure has committed before the edit begins, and the edit is answered as in sequence).

The merge or erasure runs first and holds its transaction open; the edit starts and waits
(on PostgreSQL until it is seen waiting for a lock); then the other commits. Before, the edit
read the lead without a lock, then waited on its row at its first write: its UPDATE found the
row gone (StaleDataError) or its stage change, touch or note failed on the foreign key, a 500.
It now reads the lead held, and a lead gone by then is a 409 naming the lead it was merged
into, or a 404 saying it was erased; nothing of the edit is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.core.lifecycle import MERGE_ACTOR
from leadflow.core.roles import Role
from leadflow.models import Event, Lead
from leadflow.models.audit import AuditEntry
from leadflow.models.stage_change import StageChange
from leadflow.services import merge, playbooks, privacy
from tests.api.conftest import NOW, bearer
from tests.services.test_claimed_creators import held_while

KEEP, DUPLICATE = "k@company.com", "d@company.com"

# Each staff edit of a lead: its path under /api/leads/{id} and its body.
EDITS: dict[str, tuple[str, dict[str, Any]]] = {
    "PATCH": ("", {"title": "CTO"}),
    "disqualify": ("/actions", {"action": "disqualify", "reason": "no budget"}),
    "recycle": ("/actions", {"action": "recycle", "reason": "not this quarter"}),
    "touch": ("/touches", {"channel": "call", "text": "left a message"}),
    "note": ("/notes", {"text": "met at the fair"}),
}


def merging(session: Session) -> None:
    """Fold DUPLICATE into KEEP (not committed)."""
    book = playbooks.active_playbook(session)
    merge.merge_leads(session, book, KEEP, DUPLICATE, actor="ana", now=NOW)


def erasing(session: Session) -> None:
    """Erase DUPLICATE's person (not committed)."""
    privacy.erase(session, DUPLICATE, actor="ana", now=NOW)


def two_leads(client: TestClient, key: str) -> tuple[int, int]:
    """KEEP and DUPLICATE, made through the API; their ids."""
    ids = []
    for email in (KEEP, DUPLICATE):
        made = client.post("/api/leads", json={"email": email}, headers=bearer(key))
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    return ids[0], ids[1]


def edited_beside(
    app: FastAPI, other: Callable[[Session], None], edit: Callable[[], Response]
) -> Response:
    """The edit's answer, sent while `other` is written but not committed."""
    answers: list[Response] = []
    raised = held_while(app.state.sessions, other, lambda: answers.append(edit()))
    assert raised == []
    [answer] = answers
    return answer


def on_postgresql(app: FastAPI) -> bool:
    return bool(app.state.engine.dialect.name == "postgresql")


def last_ids(app: FastAPI) -> tuple[int, int, int]:
    """The newest event, stage change and audit row before the race."""
    with app.state.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.coalesce(func.max(model.id), 0)))
            for model in (Event, StageChange, AuditEntry)
        )


def nothing_of_the_edit(app: FastAPI, before: tuple[int, int, int], kept: int | None) -> None:
    """Every row written since `before` is the merge's or the erasure's (actor "ana"): no
    stage change, touch, note or audit row of the edit; the lead kept has no edit's field."""
    events, changes, entries = before
    with app.state.sessions() as session:
        notes = session.scalars(select(Event.properties).where(Event.id > events)).all()
        assert [note.get("actor") for note in notes] in ([], ["ana"])
        moves = session.scalars(select(StageChange.actor).where(StageChange.id > changes))
        assert set(moves) <= {MERGE_ACTOR}
        actors = session.scalars(select(AuditEntry.actor).where(AuditEntry.id > entries))
        assert set(actors) <= {"ana"}
        if kept is not None:
            lead = session.get(Lead, kept)
            assert lead is not None and lead.title is None and lead.stage == "lead"


@pytest.mark.parametrize(("path", "body"), EDITS.values(), ids=EDITS.keys())
def test_an_edit_beside_a_merge_names_the_lead_kept(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], path: str,
    body: dict[str, Any],
) -> None:  # fmt: skip
    key = make_key(Role.ADMIN)
    kept, duplicate = two_leads(client, key)
    before = last_ids(app)
    method = client.patch if path == "" else client.post
    url = f"/api/leads/{duplicate}{path}"
    answer = edited_beside(app, merging, lambda: method(url, json=body, headers=bearer(key)))
    if on_postgresql(app):  # the edit read the duplicate, then the merge deleted it
        assert answer.status_code == 409, answer.text
        said = f"lead {duplicate} was merged into lead {kept} ({KEEP}) while you edited it"
        assert said in answer.json()["error"]["message"]
    else:  # in sequence: the merge first, then the edit finds no such lead
        assert answer.status_code == 404, answer.text
    nothing_of_the_edit(app, before, kept)


@pytest.mark.parametrize(("path", "body"), EDITS.values(), ids=EDITS.keys())
def test_an_edit_beside_an_erasure_says_the_lead_was_erased(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], path: str,
    body: dict[str, Any],
) -> None:  # fmt: skip
    key = make_key(Role.ADMIN)
    kept, duplicate = two_leads(client, key)
    before = last_ids(app)
    method = client.patch if path == "" else client.post
    url = f"/api/leads/{duplicate}{path}"
    answer = edited_beside(app, erasing, lambda: method(url, json=body, headers=bearer(key)))
    assert answer.status_code == 404, answer.text
    if on_postgresql(app):
        said = f"lead {duplicate} was erased while you edited it"
        assert said in answer.json()["error"]["message"]
    nothing_of_the_edit(app, before, kept)
