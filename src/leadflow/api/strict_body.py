"""JSON request bodies of /api read strictly: no NaN, Infinity, lone surrogates or deep nesting."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from leadflow.core import strict_json
from leadflow.core.errors import Invalid


class BodyRefused(HTTPException):
    """A 422 naming the field of a JSON body that is not strict JSON."""

    def __init__(self, error: Invalid) -> None:
        super().__init__(422, error.message)
        self.problems = [{"field": f, "message": m} for f, m in error.field_problems]


class StrictRequest(Request):
    """A request whose `json()` is `core.strict_json.loads`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = strict_json.loads(await self.body())
            except Invalid as exc:
                # FastAPI passes an HTTPException raised while reading the body through as is.
                raise BodyRefused(exc) from None
        return self._json


class StrictRoute(APIRoute):
    """The route class of every /api router."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictRequest(request.scope, request.receive))

        return strict
