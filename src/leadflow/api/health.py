"""Liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from leadflow.api.db_faults import unavailable
from leadflow.api.deps import DbSession, WriterTurns
from leadflow.api.errors import error_response
from leadflow.repositories import database
from leadflow.services import operations

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Health: the server is up and its database takes writes")
async def healthz(request: Request) -> Any:
    """200 with {"status": "ok"} when the database answers and can write; 503 when it is
    down, locked by another writer for over a second, or not writable."""
    turns: WriterTurns | None = request.app.state.sqlite_writers
    factory: sessionmaker[Session] = request.app.state.sessions
    if turns is None:
        problem = await run_in_threadpool(_probe, factory, {})
    else:
        async with turns.lock():  # this process's writers first: only another one is a lock
            problem = await run_in_threadpool(_probe, factory, turns.options())
    if problem:
        return error_response(503, problem, headers={"Retry-After": "1"})
    return {"status": "ok", "database": request.app.state.engine.dialect.name}


def _probe(factory: sessionmaker[Session], options: dict[str, object]) -> str | None:
    """None when the database can take a write now, else what is wrong."""
    try:
        with factory() as session:
            try:
                session.connection(execution_options=options)
                writable = database.check_writable(session)
            finally:
                session.rollback()
    except Exception as exc:
        return (unavailable(exc) or "the database does not answer").split(";")[0]
    return None if writable else "the database is not writable"


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
