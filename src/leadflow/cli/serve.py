"""`leadflow serve`: the API (and, later, the web pages and the worker) under uvicorn."""

from __future__ import annotations

import logging
import os
from enum import StrEnum

import typer
from sqlalchemy.engine import make_url

from leadflow import logs
from leadflow.cli.context import console, fail, friendly, state
from leadflow.models.db import make_engine, upgrade


class LogLevel(StrEnum):
    """The levels uvicorn and `logs.config` both take."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def _tcp_port(port: int) -> int:
    """1-65535; uvicorn binds elsewhere or fails with its own error on any other number."""
    if not 1 <= port <= 65535:
        raise typer.BadParameter(f"{port} is not a TCP port: use 1 to 65535")
    return port


def register(app: typer.Typer) -> None:
    """Add `serve` to the app."""
    app.command("serve")(serve)


@friendly
def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", envvar="LEADFLOW_HOST", help="Interface to listen on."
    ),
    port: int = typer.Option(
        8000, "--port", callback=_tcp_port, envvar="LEADFLOW_PORT", help="TCP port (1-65535)."
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, envvar="LEADFLOW_WORKERS", help="Server processes."
    ),
    log_level: LogLevel = typer.Option(
        LogLevel.info,
        "--log-level",
        case_sensitive=False,
        envvar="LEADFLOW_LOG_LEVEL",
        help="Log level.",
    ),
    worker: bool = typer.Option(
        True,
        "--worker/--no-worker",
        envvar="LEADFLOW_RUN_WORKER",
        help="Deliver alerts and sweep SLAs in this process.",
    ),
) -> None:
    """Serve the tracking API (/v1), the REST API (/api), /docs, /healthz and /metrics."""
    url = state.url()
    log_format = log_format_from_env()
    if workers > 1 and make_url(url).get_backend_name() == "sqlite":
        raise fail(SQLITE_ONE_PROCESS)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    run_server(url, host, port, workers, log_level.value, worker=worker, log_format=log_format)


def log_format_from_env() -> str:
    """LEADFLOW_LOG_FORMAT (text or json), or a clear refusal."""
    chosen = os.environ.get("LEADFLOW_LOG_FORMAT", "text").strip().lower() or "text"
    if chosen not in logs.FORMATS:
        raise fail(f"LEADFLOW_LOG_FORMAT={chosen!r}: use text or json")
    return chosen


# SQLite has one writer at a time: one process takes turns and shares commits among the calls
# that arrive together (group commit); several processes would only queue on the file lock.
SQLITE_ONE_PROCESS = (
    "--workers above 1 needs PostgreSQL: SQLite allows one writer at a time, and one server "
    "process already shares each commit among the requests that arrive together "
    "(use --db postgresql://... to run several processes)"
)


WORKER_START_SECONDS = 120


def run_server(
    url: str,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    *,
    worker: bool = True,
    log_format: str = "text",
) -> None:
    """Run uvicorn on the app factory until interrupted."""
    # The app factory reads its settings from the environment, in every worker process.
    os.environ["LEADFLOW_DATABASE_URL"] = url
    os.environ["LEADFLOW_RUN_WORKER"] = "1" if worker else "0"
    shown = make_url(url).render_as_string(hide_password=True)  # never print a password
    banner = (
        f"leadflow on http://{host}:{port}  (API docs /docs, health /healthz)  database {shown}"
    )
    if log_format == "json":  # every line the server writes is then a JSON object
        logs.configure(log_format, log_level)
        logging.getLogger("leadflow.serve").info(banner)
    else:
        console.print(banner, highlight=False)
    import uvicorn  # the server's libraries load when one is run, not with every command

    uvicorn.run(
        "leadflow.api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        # Access logs carry query strings, which may hold e-mail addresses: keep them off
        # (api/request_ids.py logs each request by its route template instead).
        access_log=False,
        log_config=logs.config(log_format, log_level),
        # Open pages hold a live stream (Server-Sent Events) that never ends by itself: on
        # Ctrl+C, stop waiting for them after a moment.
        timeout_graceful_shutdown=2,
        # With --workers N the supervisor pings each process and kills one that has not
        # answered within this many seconds, then starts another. uvicorn's 5 s is shorter
        # than a process needs to import the app on a busy machine (53 s of wall time,
        # 6 s of CPU, measured at load average 11 on 2 cores): every process was killed
        # while starting and replaced, forever, and the server never answered.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )
