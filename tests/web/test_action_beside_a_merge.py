"""The lead page's actions while a merge folds the lead into another, or an erasure deletes
it (PostgreSQL; SQLite in sequence): a page naming what became of the lead (its first letter
shown capital), never a 500."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from leadflow.core.roles import Role
from tests.api.test_edits_beside_a_merge import (
    KEEP,
    edited_beside,
    erasing,
    last_ids,
    merging,
    nothing_of_the_edit,
    on_postgresql,
    two_leads,
)
from tests.web.test_amount_form import signed_in

OTHERS = {"merge": merging, "erasure": erasing}


@pytest.mark.parametrize("action", ["accept", "touch"])
@pytest.mark.parametrize("other", OTHERS.values(), ids=OTHERS.keys())
def test_a_page_action_beside_a_merge_or_erasure_says_what_became_of_the_lead(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], action: str,
    other: Callable[[Session], None],
) -> None:  # fmt: skip
    kept, duplicate = two_leads(client, make_key(Role.ADMIN))
    csrf = signed_in(client, app)
    before = last_ids(app)
    form = {"action": action, "reason": "", "csrf_token": csrf}
    answer = edited_beside(app, other, lambda: client.post(f"/leads/{duplicate}/act", data=form))
    merged = other is merging
    if not on_postgresql(app):  # in sequence: the lead had gone before the action began
        assert answer.status_code == 404, answer.text
    elif merged:
        assert answer.status_code == 409, answer.text
        said = f"Lead {duplicate} was merged into lead {kept} ({KEEP}) while you edited it"
        assert escape(said) in answer.text
    else:
        assert answer.status_code == 404, answer.text
        assert f"Lead {duplicate} was erased while you edited it" in answer.text
    nothing_of_the_edit(app, before, kept)
