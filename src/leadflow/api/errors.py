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
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError, StatementError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.api.db_faults import unavailable
from leadflow.core.errors import LeadflowError

log = logging.getLogger("leadflow.api")
# How a page (not /api, not /v1) shows an error: (request, status, message, headers) -> the
# HTML answer, or None when the request is not for a page.
PageError = Callable[[Request, int, str, dict[str, str] | None], Response | None]
# The web layer's page for a database that cannot write now (None: answer as for any page).
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


def install(app: FastAPI, page: PageError | None = None) -> None:
    """Map every error a client can cause to its status, and anything else to a plain 500;
    requests for pages get `page`'s HTML instead of the JSON document."""

    def answer(
        request: Request,
        status: int,
        message: str,
        problems: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> Response:
        shown = page(request, status, message, headers) if page else None
        return shown or error_response(status, message, problems, headers)

    @app.exception_handler(LeadflowError)
    async def domain_error(request: Request, exc: LeadflowError) -> Response:
        problems = [{"field": f, "message": m} for f, m in exc.field_problems]
        return answer(request, exc.status_code, exc.message, problems)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = validation_problems(exc.errors())
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return answer(request, 422, message, problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers) if exc.headers else None
        problems = getattr(exc, "problems", ())
        return answer(request, exc.status_code, str(exc.detail), problems, headers=headers)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> Response:
        # A value the database cannot hold (too long, out of range): the client's, so a 400.
        log.warning("unstorable value on %s %s", request.method, _route(request))
        message = "a value in the request cannot be stored; nothing was applied"
        return answer(request, 400, message)

    @app.exception_handler(StatementError)
    async def refused_on_bind(request: Request, exc: StatementError) -> Response:
        # models.db refuses a value (e.g. NaN in a JSON column) while binding parameters.
        if isinstance(exc.orig, LeadflowError):
            return await domain_error(request, exc.orig)
        return await unexpected(request, exc)

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        message = unavailable(exc)
        if message is None:
            return await unexpected(request, exc)
        log.warning("%s on %s %s", message.split(";")[0], request.method, _route(request))
        retry = {"Retry-After": "1"}
        special: UnavailablePage | None = getattr(request.app.state, "unavailable_page", None)
        shown = special(request, message) if special is not None else None
        if shown is not None:
            shown.status_code = 503
            shown.headers.update(retry)
            return shown
        return answer(request, 503, message, headers=retry)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return answer(request, 500, logged_internal_error(exc, request.method, _route(request)))

    app.add_middleware(ContainFailures, page=page)


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


def failure_line(what: str, exc: BaseException) -> str:
    """`what: Type at file.py:12 in function`, and why the database refused, when it did.

    Type and place only: a traceback's message holds the statement's parameters (e-mails).
    """
    line = f"{what}: {type(exc).__name__} at {where(exc)}"
    reason = unavailable(exc)
    return f"{line} ({reason.split(';')[0]})" if reason else line


def logged_internal_error(exc: BaseException, method: str, route: str) -> str:
    """Log a 500 with an error id and return the message saying it; the log gets the id, the
    type and where, never the exception's message or traceback: those hold SQL parameters
    (e-mails) and request values."""
    error_id = secrets.token_hex(6)
    log.error("error %s: %s at %s on %s %s", error_id, type(exc).__name__, where(exc), method,
              route)  # fmt: skip
    return f"internal error (id {error_id}); the request was not applied"


def internal_error(exc: BaseException, method: str, route: str) -> JSONResponse:
    """A 500 with an error id, as JSON (see `logged_internal_error`)."""
    return error_response(500, logged_internal_error(exc, method, route))


class ContainFailures:
    """Plain ASGI middleware: an unexpected error ends here as a 500.

    Starlette's own last-resort handler re-raises after answering, so the server would log
    the full traceback with its SQL parameters; here it is logged as `internal_error` says.
    """

    def __init__(self, app: ASGIApp, page: PageError | None = None) -> None:
        self.app = app
        self.page = page  # a request for a page gets the HTML error page

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
            message = logged_internal_error(exc, scope["method"], route)
            shown = self.page(Request(scope), 500, message, None) if self.page else None
            response = shown or error_response(500, message)
            if not started:
                await response(scope, receive, send)
