"""The FastAPI application: `create_app(url)` for tests, `create_app_from_env()` for uvicorn."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from leadflow import __version__, web
from leadflow.api import errors, health, metrics, openapi_doc
from leadflow.api.db_faults import WRITE_WAIT_MS
from leadflow.api.deps import KeyCache, Turns, WriterTurns
from leadflow.api.group_commit import GroupCommit
from leadflow.api.headers import SecurityHeaders
from leadflow.api.request_ids import RequestIds
from leadflow.models.db import make_engine, make_session_factory
from leadflow.settings import Settings

DESCRIPTION = """
leadflow's HTTP interface.

* **/v1** — the Segment HTTP Tracking API: send `identify`, `track`, `page`, `screen`, `group`,
  `alias` and `batch` calls with a write key (an `ingest` API key) as the HTTP Basic user.
* **/api** — the REST API for leads, accounts, events, the playbook and sales actions, with
  `Authorization: Bearer KEY`.

Every error is `{"error": {"status", "message", "problems": [{"field", "message"}]}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app bound to one database; its engine lives as long as the app."""
    settings = settings or Settings()
    app = FastAPI(
        title="leadflow", version=__version__, description=DESCRIPTION, lifespan=_lifespan
    )
    engine = make_engine(settings.database_url, lock_wait_ms=WRITE_WAIT_MS)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    read_engine = make_engine(settings.read_database_url) if settings.read_database_url else engine
    app.state.read_engine = read_engine
    app.state.read_sessions = (
        make_session_factory(read_engine) if read_engine is not engine else app.state.sessions
    )
    sqlite = engine.dialect.name == "sqlite"
    turns = WriterTurns() if sqlite else None
    app.state.sqlite_writers = turns
    # Tracking calls share transactions: SQLite's writer turns, or this process's own turns
    # run off the event loop (PostgreSQL; other processes write beside them).
    group = GroupCommit(app.state.sessions, Turns(), in_thread=True) if turns is None else None
    app.state.group_commit = GroupCommit(app.state.sessions, turns) if turns else group
    app.state.key_cache = KeyCache()
    app.state.key_touches = {}  # key id -> when this process last tried to record its use
    metrics.install(app)
    errors.install(app, page=web.error_page)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["*"],
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestIds)  # added last: outermost, so every log line has the id
    app.include_router(health.router)
    for router in _routers():
        app.include_router(router)
    web.install(app)
    openapi_doc.install(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the in-process worker when the settings ask for it; stop it on shutdown."""
    hub = app.state.live_hub
    hub.start()
    worker = None
    if app.state.settings.run_worker:
        from leadflow.worker import Worker

        factory = app.state.sessions
        turns: WriterTurns | None = app.state.sqlite_writers
        if turns is not None:  # SQLite: the worker's writes queue with the requests'
            loop = asyncio.get_running_loop()
            factory = make_session_factory(turns.share_with_thread(app.state.engine, loop))
        worker = Worker(factory)
        worker.start_thread()
    app.state.worker = worker
    yield
    if worker is not None:
        worker.stop.set()
        worker.wake.set()
    hub.stop()


def _routers() -> list[APIRouter]:
    from leadflow.api import rest, segment, tracker

    return [segment.router, tracker.router, rest.router()]


def create_app_from_env() -> FastAPI:
    """The uvicorn factory: settings from LEADFLOW_* environment variables."""
    app = create_app(Settings())
    # The server's long-lived objects (modules, the app, the playbook) never become garbage:
    # moving them out of the collector's sight, and collecting the young generation less
    # often, keeps full collections from pausing tracking calls for tens of milliseconds.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return app
