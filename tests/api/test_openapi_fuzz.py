"""Schemathesis over /openapi.json: every operation, with a key of each role; never a 5xx.

The short run here is part of the suite; `python3 dev.py fuzz` runs the long one (it sets
LEADFLOW_FUZZ_SCALE). Every 5xx is collected with its request, then reported at once.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from leadflow.core.roles import Role

EXAMPLES = 3 * int(os.environ.get("LEADFLOW_FUZZ_SCALE", "1"))  # per operation, role, mode
STATUSES: dict[int, int] = {}  # answers seen, by status (printed with -s)
ROLES = (Role.INGEST, Role.MARKETING, Role.SALES, Role.ADMIN)


def key_headers(path: str, key: str) -> dict[str, str]:
    """The key as each interface expects it: the HTTP Basic user on /v1, a bearer on /api."""
    if path.startswith("/v1"):
        return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    return {"Authorization": f"Bearer {key}"}


def fuzz(operation: Any, headers: dict[str, str], mode: GenerationMode) -> list[str]:
    """Up to EXAMPLES requests for one operation; a line for each 5xx."""
    found: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy(mode))
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
        if response.status_code >= 500 and not _not_ready(case.formatted_path, response):
            body = repr(case.body)[:300] if case.body is not None else ""
            found.append(f"{response.status_code} {case.method} {case.formatted_path} "
                         f"query={case.query} {body} -> {response.text[:200]}")  # fmt: skip

    # Unsatisfiable: no request of this mode fits the operation (e.g. nothing to get wrong).
    with contextlib.suppress(Unsatisfiable):
        call()
    return found


def _not_ready(path: str, response: Any) -> bool:
    """`/readyz`'s documented 503: no worker runs beside this test app, so it is not ready."""
    return path == "/readyz" and response.status_code == 503 and response.json()["ready"] is False


def test_no_operation_answers_a_5xx_to_any_role(
    app: FastAPI, make_key: Callable[[Role], str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {operation.path for operation in operations}
    assert {"/v1/track", "/v1/batch", "/api/leads", "/api/events"} <= paths
    keys = {role: make_key(role) for role in ROLES}
    failures: list[str] = []
    for operation in operations:
        for role in ROLES:
            headers = key_headers(operation.path, keys[role])
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures += fuzz(operation, headers, mode)
    print(f"schemathesis: {sum(STATUSES.values())} requests, by status {sorted(STATUSES.items())}")
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:40])
