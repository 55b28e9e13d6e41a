"""Event kinds tell apart what conditions tell apart, and nothing they read alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from hashlib import blake2b
from typing import Any

import pytest

from leadflow.core.event_kinds import covered, kind_of, occurred_micros


def test_kinds_keep_apart_types_names_and_path_values() -> None:
    kinds = {
        kind_of("page", None, {"path": "/pricing"}),
        kind_of("page", None, {"path": "/pricing/"}),
        kind_of("Page", None, {"path": "/pricing"}),
        kind_of("track", "Demo Requested", {}),
        kind_of("track", "demo requested", {}),
        kind_of("page", None, {"path": 1}),
        kind_of("page", None, {"path": 1.0}),
        kind_of("page", None, {"path": True}),
        kind_of("page", None, {"path": "1"}),
        kind_of("page", None, {"path": {"a": 1}}),
    }
    assert len(kinds) == 10
    assert all(0 <= k < 2**63 for k in kinds)


def test_kinds_read_alike_what_conditions_read_alike() -> None:
    missing = kind_of("page", None, {})
    assert kind_of("page", None, {"path": None}) == missing
    assert kind_of("page", None, None) == missing
    assert kind_of("page", None, {"url": "https://x.example/"}) == missing
    assert kind_of("page", None, {"path": {"a": 1, "b": 2}}) == kind_of(
        "page", None, {"path": {"b": 2, "a": 1}}
    )


def test_kinds_are_stable_across_releases() -> None:
    # Stored with every event: a change here would leave stored kinds wrong.
    assert kind_of("page", None, {"path": "/pricing"}) == 4654326260248471714


def test_only_the_path_is_covered() -> None:
    assert covered([]) and covered(["properties.path"])
    assert not covered(["properties.path", "properties.plan"])
    assert not covered(["context.device.type"])


def test_occurred_micros_is_exact_and_naive_means_utc() -> None:
    moment = datetime(2025, 6, 1, 12, 30, 15, 123457, tzinfo=UTC)
    assert occurred_micros(moment) == 1748781015123457
    assert occurred_micros(moment.replace(tzinfo=None)) == 1748781015123457
    east = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert occurred_micros(east) == 1748781015123457
    assert occurred_micros(datetime(1969, 12, 31, 23, 59, 59, 999999)) == -1


@pytest.mark.parametrize(
    "path",
    ["/pricing", 'a"b', "a\\b", "tab\there", "caf\u00e9 \u2028", "\ud800", None, 1, 2.5, True,
     {"b": 1, "a": [None, "x"]}, ["/x"]],
)  # fmt: skip
def test_kinds_digest_the_canonical_json(path: Any) -> None:
    text = json.dumps(
        ["page", "Viewed", path], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    assert kind_of("page", "Viewed", {"path": path}) == int.from_bytes(digest, "big") >> 1
