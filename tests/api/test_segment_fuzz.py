"""Whatever a client sends to the tracking API, the answer is a 200 or a 4xx: never a 500.

The parser (`core.segment`) and the JSON reader (`core.strict_json`) are fuzzed on their own too.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.core import strict_json
from leadflow.core.errors import Invalid
from leadflow.core.roles import Role
from leadflow.core.segment import MAX_ID, TYPES, parse_message

# NaN, infinities, lone surrogates and odd offsets on purpose: they must be refused, not stored.
times = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.sampled_from(
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z"]
)
# `python3 dev.py fuzz` raises it for the long run.
SCALE = int(os.environ.get("LEADFLOW_FUZZ_SCALE", "1"))
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | times
    | st.sampled_from(["\ud800", "\udfff", "x\x00y"])
)  # fmt: skip
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
        "timestamp": st.one_of(st.text(max_size=30), times),
        "sentAt": times,
        "context": st.dictionaries(st.sampled_from(["traits", "campaign", "page"]), values),
    }
)


@settings(
    max_examples=60 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(message_like | values, max_size=5), single=message_like | values)
def test_no_client_input_makes_a_500(
    client: TestClient, make_key: Callable[[Role], str], batch: list[Any], single: Any
) -> None:
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{fuzz_key(make_key)}:".encode()).decode()
    }
    for path, body in (("/v1/batch", {"batch": batch}), ("/v1/track", single), ("/v1/b", batch)):
        response = client.post(path, content=json.dumps(body).encode("utf-8", "surrogatepass"),
                               headers=headers)  # fmt: skip
        assert response.status_code in (200, 400), (path, body, response.text)
        assert "error" in response.json() or response.json()["success"] is True


_keys: dict[int, str] = {}


def fuzz_key(make_key: Callable[[Role], str]) -> str:
    """One ingest key per app (the fixture is per test; hypothesis calls the test many times)."""
    return _keys.setdefault(id(make_key), make_key(Role.INGEST))


RECEIVED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@settings(max_examples=300 * SCALE, deadline=None)
@given(raw=message_like | values, kind=st.sampled_from([None, *TYPES]))
def test_the_parser_returns_a_message_or_invalid_and_nothing_else(
    raw: Any, kind: str | None
) -> None:
    try:
        message = parse_message(raw, RECEIVED, kind)
    except Invalid as exc:
        assert exc.message  # a reason a person can read
        return
    assert message.type in TYPES and message.occurred_at <= RECEIVED
    assert message.user_id or message.anonymous_id
    assert all(len(i) <= MAX_ID for i in (message.user_id, message.anonymous_id) if i)
    message.email()  # reads context.traits: never fails on a parsed message


@settings(max_examples=300 * SCALE, deadline=None)
@given(document=values, deep=st.integers(0, 2000))
def test_strict_json_keeps_finite_storable_json_and_refuses_the_rest(
    document: Any, deep: int
) -> None:
    text = json.dumps(document).encode("utf-8", "surrogatepass")
    nested = b"[" * deep + text + b"]" * deep
    try:
        parsed = strict_json.loads(nested)
    except Invalid as exc:
        assert exc.field_problems and exc.message
        return
    # What is accepted survives the strict serializer of JSON columns unchanged.
    assert json.loads(json.dumps(parsed, allow_nan=False)) == parsed
    json.dumps(parsed).encode("utf-8")  # and is storable text
