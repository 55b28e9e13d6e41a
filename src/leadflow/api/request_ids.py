"""`X-Request-ID`: taken from the request when it is a sane token, else made up; echoed in the
response, and on every log line written while the request is served (`leadflow.logs`).

One line per request is logged at the end: method, route template, status and time taken,
never the path (it may hold an e-mail address), the query, the client's address or a body.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.logs import request_id

HEADER = "x-request-id"
# What a proxy or a client may hand us to follow a request across services; anything else
# (too long, spaces, other characters) is replaced, so a log line cannot be forged through it.
SANE = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
log = logging.getLogger("leadflow.request")


def _given(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            text = value.decode("latin-1")
            return text if SANE.fullmatch(text) else None
    return None


class RequestIds:
    """Plain ASGI middleware (outermost): sets the request id for everything inside it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            route = str(getattr(scope.get("route"), "path", "(unmatched route)"))
            took = round((time.perf_counter() - started) * 1000, 1)
            log.info("%s %s %s %.1f ms", scope["method"], route, status, took,
                     extra={"method": scope["method"], "route": route, "status": status,
                            "ms": took})  # fmt: skip
            request_id.reset(token)
