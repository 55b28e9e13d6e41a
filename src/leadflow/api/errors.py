"""One JSON shape for every error, naming the field and the reason; never a traceback.

{"error": {"status": 422, "message": "...", "problems": [{"field": "...", "message": "..."}]}}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError, StatementError
from starlette.exceptions import HTTPException

from leadflow.core.errors import LeadflowError

log = logging.getLogger("leadflow.api")
# Lock waits that ran out: SQLite's busy timeout, PostgreSQL's deadlock or lock timeout.
BUSY_SIGNS = ("database is locked", "database is busy", "deadlock detected", "lock timeout")
# How a page (not /api, not /v1) shows an error: (request, status, message, headers) -> the
# HTML answer, or None when the request is not for a page.
PageError = Callable[[Request, int, str, dict[str, str] | None], Response | None]


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
        text = str(exc.orig).lower()
        if any(sign in text for sign in BUSY_SIGNS):
            log.warning("database busy on %s %s", request.method, _route(request))
            message = "the database is busy; nothing was applied, retry"
            return answer(request, 503, message, headers={"Retry-After": "1"})
        return await unexpected(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Logged with the route template only: bodies and paths may hold e-mail addresses.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, _route(request))
        log.debug("unexpected error", exc_info=exc)
        return answer(request, 500, "internal error; the request was not applied")
