"""`/playbook.schema.json`: the schema at a stable URL, for editors and other tools."""

from __future__ import annotations

from fastapi.testclient import TestClient

from leadflow.core.playbook import json_schema


def test_the_schema_is_served_at_a_stable_url(client: TestClient) -> None:
    answer = client.get("/playbook.schema.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/schema+json")
    assert answer.json() == json_schema()
