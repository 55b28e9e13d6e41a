"""One JSON shape for every error, naming the field and the reason; never a traceback.

{"error": {"status": 422, "message": "...", "problems": [{"field": "...", "message": "..."}]}}
"""

from __future__ import annotations

import logging
import os
import secrets
import sysconfig
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.api.db_faults import unavailable
from leadflow.core.errors import LeadflowError

log = logging.getLogger("leadflow.api")


# The web layer's page for a database that cannot write now (None: answer JSON).
UnavailablePage = Callable[[Request, str], Response | None]


def error_body(
    status: int, message: str, problems: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The error document."""
    return {"error": {"status": status, "message": message, "problems": list(problems)}}


def error_response(
    status: int,
    message: str,
    problems: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error as a JSON response."""
    return JSONResponse(error_body(status, message, problems), status_code=status, headers=headers)


def field_name(location: Sequence[Any]) -> str:
    """`("body", "traits", "email")` -> `traits.email`; list indexes as `[3]`."""
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or ".".join(str(p) for p in location)


def validation_problems(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as {field, message}."""
    return [{"field": field_name(e.get("loc", ())), "message": e.get("msg", "")} for e in errors]


def _route(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", "(unmatched route)"))


def install(app: FastAPI) -> None:
    """Map every error a client can cause to its status, and anything else to a plain 500."""

    @app.exception_handler(LeadflowError)
    async def domain_error(_: Request, exc: LeadflowError) -> JSONResponse:
        problems = [{"field": f, "message": m} for f, m in exc.field_problems]
        return error_response(exc.status_code, exc.message, problems)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(exc.errors())
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return error_response(422, message, problems)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (too long, out of range): the client's, so a 400.
        log.warning("unstorable value on %s %s", request.method, _route(request))
        return error_response(400, "a value in the request cannot be stored; nothing was applied")

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        message = unavailable(exc)
        if message is None:
            return await unexpected(request, exc)
        log.warning("%s on %s %s", message.split(";")[0], request.method, _route(request))
        retry = {"Retry-After": "1"}
        page: UnavailablePage | None = getattr(request.app.state, "unavailable_page", None)
        shown = page(request, message) if page is not None else None
        if shown is not None:
            shown.status_code = 503
            shown.headers.update(retry)
            return shown
        return error_response(503, message, headers=retry)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(exc, request.method, _route(request))

    app.add_middleware(ContainFailures)


def where(exc: BaseException) -> str:
    """`file.py:12 in function` of our innermost frame (not a library's), and the innermost."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "(no traceback)"
    libraries = (f"{os.sep}site-packages{os.sep}", sysconfig.get_paths()["stdlib"])
    ours = [f for f in frames if not any(place in f.filename for place in libraries)]

    def place(frame: traceback.FrameSummary) -> str:
        return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"

    inner = place(frames[-1])
    return f"{place(ours[-1])} (raised in {inner})" if ours and ours[-1] != frames[-1] else inner


def internal_error(exc: BaseException, method: str, route: str) -> JSONResponse:
    """A 500 with an error id; the log gets the id, the type and where, never the exception's
    message or traceback: those hold SQL parameters (e-mails) and request values."""
    error_id = secrets.token_hex(6)
    log.error("error %s: %s at %s on %s %s", error_id, type(exc).__name__, where(exc), method,
              route)  # fmt: skip
    return error_response(500, f"internal error (id {error_id}); the request was not applied")


class ContainFailures:
    """Plain ASGI middleware: an unexpected error ends here as a 500.

    Starlette's own last-resort handler re-raises after answering, so the server would log
    the full traceback with its SQL parameters; here it is logged as `internal_error` says.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            route = str(getattr(scope.get("route"), "path", "(unmatched route)"))
            response = internal_error(exc, scope["method"], route)
            if not started:
                await response(scope, receive, send)
