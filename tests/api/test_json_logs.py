"""`LEADFLOW_LOG_FORMAT=json`: every line the server writes is a JSON object with a request id,
`X-Request-ID` is echoed (or made up), and no line holds an e-mail, an IP address or an
event's properties. One engine is enough: logging does not depend on the database."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests import processes

EMAIL = "ada.lovelace.logcheck@example.org"
IP = "203.0.113.77"
PROPERTY = "PROPERTY-VALUE-7f3e"


def _send(port: int, key: str) -> dict[str, httpx.Response]:
    base = f"http://127.0.0.1:{port}"
    answers: dict[str, httpx.Response] = {}
    with httpx.Client(base_url=base, auth=(key, ""), timeout=30) as client:
        answers["given"] = client.post(
            "/v1/identify",
            json={"userId": "u-1", "traits": {"email": EMAIL, "favourite": PROPERTY},
                  "context": {"ip": IP}},
            headers={"X-Request-ID": "trace-abc-123"},
        )  # fmt: skip
        answers["made_up"] = client.post(
            "/v1/track",
            json={"userId": "u-1", "event": "Pricing Viewed", "properties": {"plan": PROPERTY},
                  "context": {"ip": IP}},
        )  # fmt: skip
        answers["refused_id"] = client.post(
            "/v1/track",
            json={"userId": "u-1", "event": "x"},
            headers={"X-Request-ID": "two words"},
        )
        answers["email_in_path"] = client.get(
            f"/api/leads/{EMAIL}", headers={"Authorization": "Bearer nope"}
        )
    return answers


def test_json_lines_with_request_ids_and_no_personal_data(sqlite_url: str) -> None:
    key = processes.prepare(sqlite_url)
    port = processes.free_port()
    server = processes.serve(sqlite_url, port, "--no-worker", LEADFLOW_LOG_FORMAT="json")
    try:
        answers = _send(port, key)
    finally:
        output = processes.stop(server)
    assert answers["given"].status_code == 200
    assert answers["given"].headers["x-request-id"] == "trace-abc-123"
    for name in ("made_up", "refused_id"):
        assert re.fullmatch(r"[0-9a-f]{32}", answers[name].headers["x-request-id"]), name
    assert answers["email_in_path"].status_code == 401

    lines = [line for line in output.splitlines() if line.strip()]
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]  # every line is JSON
    assert all("request_id" in r and "level" in r and "message" in r for r in records)
    by_id = {r["request_id"]: r for r in records if r["request_id"]}
    assert by_id["trace-abc-123"]["route"] == "/v1/identify"
    assert by_id["trace-abc-123"]["status"] == 200
    for name in ("made_up", "refused_id", "email_in_path"):
        assert answers[name].headers["x-request-id"] in by_id, name
    assert by_id[answers["email_in_path"].headers["x-request-id"]]["route"].endswith("/leads/{key}")
    for secret in (EMAIL, IP, PROPERTY):
        assert secret not in output, secret
    during_requests = json.dumps([r for r in records if r["request_id"]])
    assert "127.0.0.1" not in during_requests  # nor the client's address
