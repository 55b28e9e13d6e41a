"""Request bodies of /api read strictly: at most `MAX_BODY` bytes, and JSON with no NaN,
Infinity, lone surrogates, NUL characters or deep nesting. The pages' forms are bounded the
same way (`BoundedRoute`: the sign-in form is open to anybody), and refuse a NUL alike; so do
both in their query and path parameters (`storable_parameters`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import aclosing
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from leadflow.core import strict_json
from leadflow.core.errors import Invalid

# The largest body /api reads, so a client cannot make the server hold more in memory. Its
# biggest documents fit: a playbook (at most 1,000,000 bytes of text), and events twice what
# /v1 takes in one request (500 KB).
MAX_BODY = 1024 * 1024


async def read_at_most(request: Request, limit: int, too_large: Callable[[], Exception]) -> bytes:
    """The request's body, or `too_large()` raised as soon as it is known to pass `limit` bytes:
    by its declared length before reading, else (a chunked body declares none) while reading."""
    chunks = [chunk async for chunk in _bounded(request, request.stream(), limit, too_large)]
    return b"".join(chunks)


async def _bounded(
    request: Request,
    stream: AsyncGenerator[bytes, None],
    limit: int,
    too_large: Callable[[], Exception],
) -> AsyncGenerator[bytes, None]:
    """The chunks of `stream`, the request's body, until more than `limit` bytes are declared
    or read: then `too_large()` is raised, before more is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    size = 0
    async with aclosing(stream) as chunks:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise too_large()
            yield chunk


class BodyTooLarge(HTTPException):
    """A 413 naming the limit, raised before more of the body is read."""

    def __init__(self) -> None:
        mb = MAX_BODY // 1024 // 1024
        super().__init__(413, f"request body is over the {mb} MB limit ({MAX_BODY:,} bytes)")


class BodyRefused(HTTPException):
    """A 422 naming the field of a JSON body that is not strict JSON."""

    def __init__(self, error: Invalid) -> None:
        super().__init__(422, error.message)
        self.problems = [{"field": f, "message": m} for f, m in error.field_problems]


class BoundedRequest(Request):
    """A request whose body is read up to `MAX_BODY` bytes, then refused with a 413 (a form
    is parsed from this stream, chunk by chunk: no more than that is ever held)."""

    def stream(self) -> AsyncGenerator[bytes, None]:
        return _bounded(self, super().stream(), MAX_BODY, BodyTooLarge)

    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        # Read as a JSON body is (`strict_json`): a NUL, which SQLite kept and PostgreSQL
        # refused with a 400 naming nothing, is refused naming its field on every engine.
        form = await super()._get_form(
            max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
        )
        for name, value in form.multi_items():
            if isinstance(value, str):
                strict_json.storable(name, value)
        return form


def storable_parameters(request: Request) -> None:
    """Invalid naming the first path or query parameter whose value no database stores as
    text (a NUL): SQLite looked such a value up, PostgreSQL refused it naming nothing."""
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if isinstance(value, str):
            strict_json.storable(name, value)


class BoundedRoute(APIRoute):
    """The route class of every page router: its forms are `BoundedRequest`s, its parameters
    `storable_parameters`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            storable_parameters(request)
            return await handler(BoundedRequest(request.scope, request.receive))

        return bounded


class StrictRequest(Request):
    """A request whose body is at most `MAX_BODY` bytes and whose `json()` is
    `core.strict_json.loads`."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            self._body = await read_at_most(self, MAX_BODY, BodyTooLarge)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = strict_json.loads(await self.body())
            except Invalid as exc:
                # FastAPI passes an HTTPException raised while reading the body through as is.
                raise BodyRefused(exc) from None
        return self._json


class StrictRoute(APIRoute):
    """The route class of every /api router (its parameters `storable_parameters`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            storable_parameters(request)
            return await handler(StrictRequest(request.scope, request.receive))

        return strict
