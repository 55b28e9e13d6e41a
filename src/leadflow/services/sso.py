"""Single sign-on with OpenID Connect: Authorization Code with PKCE (RFC 7636).

`begin` sends the browser to the provider with a fresh state, nonce and code verifier (kept
in a short-lived cookie); `finish` checks the state, trades the code for tokens, checks the
ID token's signature (the provider's published keys), issuer, audience, expiry and nonce, and
`user_for` finds the leadflow user by verified e-mail.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from leadflow.core.errors import LeadflowError
from leadflow.core.sso import SsoIdentity, SsoRefused, identity_from_claims
from leadflow.models.user import User
from leadflow.repositories import users as user_repo
from leadflow.services import audit
from leadflow.settings import Settings

TIMEOUT = 10  # seconds for each call to the provider
DISCOVERY_TTL = 3600
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
# A password hash no password matches: the user signs in through the provider only.
NO_PASSWORD = "sso"

_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


class SsoUnavailable(LeadflowError):
    """The identity provider did not answer as it should."""

    status_code = 502


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the callback must match: kept in an HttpOnly cookie between the two requests."""

    state: str
    verifier: str
    nonce: str
    next: str

    def to_cookie(self) -> str:
        """Base64url JSON (not secret from its own browser; never sent elsewhere)."""
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def from_cookie(cls, value: str) -> PendingLogin:
        """The pending login, or SsoRefused when the cookie is missing or mangled."""
        try:
            data = json.loads(base64.urlsafe_b64decode(value.encode()))
            return cls(**{k: str(data[k]) for k in ("state", "verifier", "nonce", "next")})
        except (ValueError, KeyError, TypeError):
            raise SsoRefused("This sign-in expired or began elsewhere; please try again.") from None


def metadata(issuer: str) -> dict[str, Any]:
    """The provider's discovery document (cached for an hour)."""
    cached = _discovered.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    found = _get_json(url)
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(found.get(key), str):
            raise SsoUnavailable(f"The identity provider's discovery document has no {key}.")
    _discovered[issuer] = (time.monotonic() + DISCOVERY_TTL, found)
    return found


def _get_json(url: str) -> dict[str, Any]:
    try:
        answer = requests.get(url, timeout=TIMEOUT)
        answer.raise_for_status()
        data = answer.json()
    except (requests.RequestException, ValueError):
        raise SsoUnavailable(
            "The identity provider did not answer; try again, or sign in with a password."
        ) from None
    if not isinstance(data, dict):
        raise SsoUnavailable("The identity provider answered with something unexpected.")
    return data


def _client(settings: Settings, redirect_uri: str) -> OAuth2Session:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    return OAuth2Session(
        settings.oidc_client_id,
        secret,
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def begin(settings: Settings, redirect_uri: str, next_path: str) -> tuple[str, PendingLogin]:
    """The provider's authorization URL and what the callback must match."""
    endpoint = metadata(str(settings.oidc_issuer))["authorization_endpoint"]
    verifier, nonce = generate_token(64), generate_token(32)
    with _client(settings, redirect_uri) as client:
        url, state = client.create_authorization_url(endpoint, code_verifier=verifier, nonce=nonce)
    return url, PendingLogin(state=state, verifier=verifier, nonce=nonce, next=next_path)


def finish(
    settings: Settings,
    pending: PendingLogin,
    redirect_uri: str,
    params: dict[str, str],
    now: datetime,
) -> SsoIdentity:
    """The identity the provider vouches for, after every check; SsoRefused says which failed."""
    if "error" in params:
        detail = params.get("error_description") or params["error"]
        raise SsoRefused(f"The identity provider refused the sign-in: {detail[:200]}")
    if not params.get("code") or params.get("state") != pending.state:
        raise SsoRefused("This sign-in expired or began elsewhere; please try again.")
    found = metadata(str(settings.oidc_issuer))
    try:
        with _client(settings, redirect_uri) as client:
            token = client.fetch_token(
                found["token_endpoint"], code=params["code"], code_verifier=pending.verifier,
                timeout=TIMEOUT,
            )  # fmt: skip
    except requests.RequestException:
        raise SsoUnavailable("The identity provider did not answer; try again.") from None
    except Exception as exc:  # Authlib raises its OAuthError family for refused codes
        raise SsoRefused(f"The identity provider refused the code: {str(exc)[:200]}") from None
    claims = _checked_claims(settings, found, token.get("id_token"), pending.nonce, now)
    return identity_from_claims(claims, settings.oidc_role_claim, settings.oidc_roles)


def _checked_claims(
    settings: Settings, found: dict[str, Any], id_token: Any, nonce: str, now: datetime
) -> dict[str, Any]:
    if not isinstance(id_token, str):
        raise SsoRefused("The identity provider sent no ID token (is `openid` in the scopes?).")
    keys = KeySet.import_key_set(_get_json(found["jwks_uri"]))  # type: ignore[arg-type]
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=60,
        iss={"essential": True, "value": str(found.get("issuer") or settings.oidc_issuer)},
        aud={"essential": True, "value": str(settings.oidc_client_id)},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        decoded = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise SsoRefused(f"The ID token failed its checks ({exc}); sign-in refused.") from None
    return dict(decoded.claims)


def user_for(
    session: Session, identity: SsoIdentity, now: datetime, *, role_claim_set: bool
) -> User:
    """The active leadflow user with this e-mail, created or given the role the provider's
    claim maps to; SsoRefused when there is none and the claim maps to no role, or when the
    user's role was the provider's and its claim maps to none any more (`role_claim_set`:
    roles are mapped from a claim at all)."""
    user = user_repo.by_email(session, identity.email)
    if user is None:
        if identity.role is None:
            raise SsoRefused(f"{identity.email} has no leadflow account; ask an admin to add you.")
        user = user_repo.add(session, User(
            email=identity.email, name=identity.name, role=identity.role.value,
            password_hash=NO_PASSWORD, created_at=now, role_from_sso=True))  # fmt: skip
        _audit(session, identity.email, "user.created", {"role": user.role, "by": "sso"}, now)
        return user
    if not user.active:
        raise SsoRefused(f"The leadflow account of {identity.email} is deactivated.")
    if identity.role is None and user.role_from_sso and role_claim_set:
        raise SsoRefused(
            f"{identity.email} is no longer in a group that gives a leadflow role at the"
            " identity provider; ask an admin."
        )
    if identity.role is not None and identity.role.value != user.role:
        details = {"from": user.role, "to": identity.role.value, "by": "sso"}
        user.role = identity.role.value
        _audit(session, identity.email, "user.role_changed", details, now)
    if identity.role is not None:
        user.role_from_sso = True
    return user


def _audit(
    session: Session, email: str, action: str, details: dict[str, Any], now: datetime
) -> None:
    audit.record(session, actor="sso", action=action, target=email, details=details, now=now)
