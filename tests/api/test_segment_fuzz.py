"""Whatever a client sends to the tracking API, the answer is a 200 or a 4xx: never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.core.roles import Role

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    ["type", "userId", "anonymousId", "event", "name", "properties", "traits", "context",
     "timestamp", "sentAt", "messageId", "groupId", "previousId", "originalTimestamp"]
)  # fmt: skip
message_like = st.dictionaries(keys, values, max_size=8) | st.fixed_dictionaries(
    {
        "type": st.sampled_from(["track", "page", "identify", "group", "alias", "screen", "t"]),
        "userId": st.one_of(st.text(max_size=30), st.emails(), st.integers()),
        "event": st.text(max_size=20),
        "traits": st.dictionaries(
            st.sampled_from(["email", "company", "website", "employees"]), values
        ),
        "timestamp": st.one_of(st.text(max_size=30), st.datetimes().map(lambda d: d.isoformat())),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(message_like | values, max_size=5), single=message_like | values)
def test_no_client_input_makes_a_500(
    client: TestClient, make_key: Callable[[Role], str], batch: list[Any], single: Any
) -> None:
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{fuzz_key(make_key)}:".encode()).decode()
    }
    for path, body in (("/v1/batch", {"batch": batch}), ("/v1/track", single), ("/v1/b", batch)):
        response = client.post(path, content=json.dumps(body), headers=headers)
        assert response.status_code in (200, 400), (path, body, response.text)
        assert "error" in response.json() or response.json()["success"] is True


_keys: dict[int, str] = {}


def fuzz_key(make_key: Callable[[Role], str]) -> str:
    """One ingest key per app (the fixture is per test; hypothesis calls the test many times)."""
    return _keys.setdefault(id(make_key), make_key(Role.INGEST))
