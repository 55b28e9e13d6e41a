"""Single sign-on pages: off to the identity provider, and back with a session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from leadflow.api.deps import DbSession, Now
from leadflow.api.strict_body import BoundedRoute
from leadflow.core.errors import LeadflowError
from leadflow.services import sso, users
from leadflow.settings import Settings
from leadflow.web.pages import is_https, refused, safe_path, signed_in

PENDING = "lf_sso_pending"
PENDING_LIFETIME = 600  # seconds to come back from the provider
CALLBACK = "/login/sso/callback"
router = APIRouter(include_in_schema=False, route_class=BoundedRoute)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _redirect_uri(request: Request) -> str:
    configured = _settings(request).oidc_redirect_url
    return configured or str(request.base_url).rstrip("/") + CALLBACK


@router.get("/login/sso")
def sso_start(request: Request, next: str = "/") -> Response:
    """Send the browser to the identity provider with a fresh state, nonce and PKCE verifier."""
    settings = _settings(request)
    if not settings.sso_enabled:
        return RedirectResponse("/login", status_code=303)
    try:
        url, pending = sso.begin(settings, _redirect_uri(request), safe_path(next))
    except LeadflowError as exc:
        return refused(request, exc.message, next, "", status=exc.status_code)
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    response.set_cookie(PENDING, pending.to_cookie(), max_age=PENDING_LIFETIME, httponly=True,
                        samesite="lax", secure=is_https(request), path="/login/sso")  # fmt: skip
    return response


@router.get(CALLBACK)
def sso_callback(request: Request, session: DbSession, now: Now) -> Response:
    """Back from the provider: check everything, sign the matching user in."""
    settings = _settings(request)
    if not settings.sso_enabled:
        return RedirectResponse("/login", status_code=303)
    next_path = "/"
    try:
        pending = sso.PendingLogin.from_cookie(request.cookies.get(PENDING, ""))
        next_path = pending.next
        params = dict(request.query_params.items())
        identity = sso.finish(settings, pending, _redirect_uri(request), params, now)
        mapped = bool(settings.oidc_role_claim and settings.oidc_roles)
        user = sso.user_for(session, identity, now, role_claim_set=mapped)
    except LeadflowError as exc:
        response = refused(request, exc.message, next_path, "", status=exc.status_code)
    else:
        response = signed_in(request, users.start_session(session, user, now), next_path)
    response.delete_cookie(PENDING, path="/login/sso")
    return response
