"""Liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from leadflow.api.deps import DbSession
from leadflow.api.errors import error_response
from leadflow.services import operations

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Health: the server is up and its database answers")
def healthz(session: DbSession) -> Any:
    """200 with {"status": "ok"} when the database answers, 503 otherwise."""
    try:
        session.execute(text("SELECT 1"))
    except Exception:
        return error_response(503, "database unavailable")
    return {"status": "ok", "database": session.get_bind().dialect.name}


@router.get(
    "/readyz",
    summary="Readiness: database reachable, migrations current, a worker's heartbeat recent",
)
def readyz(session: DbSession) -> Any:
    """200 with each check when ready for traffic; 503 naming the checks that failed."""
    try:
        found = operations.readiness(session, datetime.now(UTC))
    except Exception:
        return error_response(503, "database unavailable")
    if not found["ready"]:
        failed = [f"{name}: {c['reason']}" for name, c in found["checks"].items() if not c["ok"]]
        return JSONResponse(
            {"error": {"status": 503, "message": "not ready: " + "; ".join(failed),
                       "problems": []}, **found},
            status_code=503,
            headers={"Retry-After": "5"},
        )  # fmt: skip
    return found


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request, session: DbSession) -> Response:
    """The app's own registry in the Prometheus text format, with the workers' lag."""
    with contextlib.suppress(Exception):  # metrics must answer even when the database does not
        lag = operations.lag(session, datetime.now(UTC))
        for queue, seconds in lag.items():
            request.app.state.metrics.worker_lag.labels(queue).set(seconds)
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
