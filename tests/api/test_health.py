"""/healthz, /metrics, /docs and the error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_answers_with_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in {"sqlite", "postgresql"}


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'leadflow_http_requests_total{method="GET",route="/healthz",status="200"}' in text


def test_openapi_is_published(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "leadflow"


def test_unknown_path_is_a_json_404(client: TestClient) -> None:
    for path in ("/api/nope", "/v1/nope"):  # elsewhere, a page (tests/web/test_security.py)
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["status"] == 404
