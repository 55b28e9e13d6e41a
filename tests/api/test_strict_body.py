"""/api bodies have a size limit: over 1 MB is a 413 naming the limit, declared or streamed,
before anything is read further or stored; a playbook of the largest size /api takes fits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from tests.api.conftest import bearer

LIMIT = 1024 * 1024
PLAYBOOK_MAX = 1_000_000  # the largest playbook text /api/playbook takes (api/rest/playbook.py)


def _lead(size: int) -> bytes:
    """A lead whose JSON body is exactly `size` bytes."""
    empty = json.dumps({"email": "big@acme-test.io", "attributes": {"note": ""}})
    return json.dumps(
        {"email": "big@acme-test.io", "attributes": {"note": "x" * (size - len(empty))}}
    ).encode()


def _chunks(body: bytes) -> Iterator[bytes]:
    """The body streamed (chunked: no Content-Length to refuse it by)."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


def test_a_body_over_the_limit_is_a_413_naming_it_and_stores_nothing(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    auth = {**bearer(make_key(Role.ADMIN)), "Content-Type": "application/json"}
    for body in (_lead(5 * 1024 * 1024), _lead(LIMIT + 1)):
        for content in (body, _chunks(body)):
            refused = client.post("/api/leads", content=content, headers=auth)
            assert refused.status_code == 413, refused.text[:200]
            assert refused.json() == {
                "error": {
                    "status": 413,
                    "message": "request body is over the 1 MB limit (1,048,576 bytes)",
                    "problems": [],
                }
            }
    assert client.get("/api/leads/big@acme-test.io", headers=auth).status_code == 404
    at_limit = client.post("/api/leads", content=_lead(LIMIT), headers=auth)
    assert at_limit.status_code == 201, at_limit.text[:200]


def test_the_largest_playbook_fits_under_the_limit(
    client: TestClient, make_key: Callable[[Role], str]
) -> None:
    auth = bearer(make_key(Role.ADMIN))
    book = client.get("/api/playbook", headers=auth).json()["content"]
    padding = "# " + "x" * 97 + "\n"  # comment lines: the playbook stays the same
    text = book + padding * ((PLAYBOOK_MAX - len(book.encode())) // len(padding))
    assert PLAYBOOK_MAX - 100 < len(text.encode()) <= PLAYBOOK_MAX < LIMIT
    checked = client.post("/api/playbook/validate", content=text.encode(),
                          headers={**auth, "Content-Type": "application/yaml"})  # fmt: skip
    assert checked.status_code == 200 and checked.json() == {"valid": True}, checked.text[:200]
