"""A small, real OpenID Connect provider for the tests: discovery, an authorize page a person
clicks through, a token endpoint that checks the client's secret and the PKCE verifier, and
RS256-signed ID tokens with published keys. It can be told to misbehave, one way at a time."""

from __future__ import annotations

import base64
import html
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.live_server import free_port, serving


@dataclass
class Provider:
    """The provider's state; tests set `person` (the claims of whoever signs in next) and may
    set one `misbehave` ("audience", "nonce", "signature", "expired", "no_id_token")."""

    client_id: str = "leadflow"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    issuer: str = ""
    person: dict[str, Any] = field(default_factory=dict)
    misbehave: str | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant["person"].get("sub", grant["person"].get("email", "someone")),
            "aud": "someone-else" if self.misbehave == "audience" else self.client_id,
            "iat": now,
            "exp": now - 3600 if self.misbehave == "expired" else now + 300,
            "nonce": "not-the-nonce" if self.misbehave == "nonce" else grant["nonce"],
            **grant["person"],
        }
        signer = self.other_key if self.misbehave == "signature" else self.key
        header = {"alg": "RS256", "kid": signer.thumbprint()}
        return jwt.encode(header, claims, signer)


def make_app(provider: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": provider.issuer,
            "authorization_endpoint": f"{provider.issuer}/authorize",
            "token_endpoint": f"{provider.issuer}/token",
            "jwks_uri": f"{provider.issuer}/jwks",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        public = provider.key.as_dict(private=False)
        return {"keys": [{**public, "kid": provider.key.thumbprint(), "use": "sig"}]}

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != provider.client_id or q.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "detail": "PKCE S256"}, 400)
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {
            "challenge": q["code_challenge"], "nonce": q.get("nonce", ""),
            "redirect_uri": q["redirect_uri"], "state": q.get("state", ""),
            "person": dict(provider.person),
        }  # fmt: skip
        who = html.escape(str(provider.person.get("email", "?")))
        return HTMLResponse(
            f"<html><body><h1>Test identity provider</h1><form method=post action=/approve>"
            f"<input type=hidden name=code value={code}>"
            f"<button type=submit>Continue as {who}</button></form></body></html>"
        )

    @app.post("/approve")
    def approve(code: str = Form()) -> Response:
        grant = provider.codes[code]
        query = urlencode({"code": code, "state": grant["state"]})
        return RedirectResponse(f"{grant['redirect_uri']}?{query}", status_code=302)

    @app.post("/token")
    async def token(request: Request) -> Response:
        provider.token_requests += 1
        form = await request.form()
        if not _client_ok(request, dict(form), provider):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = provider.codes.pop(str(form.get("code")), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if create_s256_code_challenge(str(form.get("code_verifier"))) != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        answer: dict[str, Any] = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer"}
        if provider.misbehave != "no_id_token":
            answer["id_token"] = provider.id_token(grant)
        return JSONResponse(answer)

    return app


def _client_ok(request: Request, form: dict[str, Any], provider: Provider) -> bool:
    basic = request.headers.get("authorization", "")
    if basic.startswith("Basic "):
        user, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
    else:
        user, secret = str(form.get("client_id")), str(form.get("client_secret"))
    return user == provider.client_id and secret == provider.client_secret


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider served by uvicorn on a free local port."""
    port = free_port()
    provider = Provider(issuer=f"http://127.0.0.1:{port}")
    with serving(make_app(provider), port):
        yield provider
