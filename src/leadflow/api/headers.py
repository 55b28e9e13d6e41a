"""Security headers on every response: a strict Content-Security-Policy and friends.

Pages run only the app's own scripts (no inline script, no inline style, no eval), may not be
framed, and never leak their address (sign-in links carry a token) to another site.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
WITH_POLICY = [*ALWAYS, (b"content-security-policy", CSP.encode())]
# FastAPI's interactive API docs load their assets from a CDN with an inline script: they keep
# the other headers but not the policy (they show no stored data). Exactly these paths: any
# other, an error page at /docs-old included, keeps the policy.
NO_POLICY = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task or body buffering: /v1 is a hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = ALWAYS if scope["path"] in NO_POLICY else WITH_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
