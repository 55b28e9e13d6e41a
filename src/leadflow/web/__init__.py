"""The web app both teams work in: server-rendered pages (Jinja2 + HTMX), no build step, no
outside host (htmx and Chart.js are vendored under static/vendor)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from leadflow.web import audit, inbox, live, manage, sso, team
from leadflow.web.auth import BadCsrf, PageForbidden, SignInRequired
from leadflow.web.pages import TEMPLATES, login_page, router

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and how they answer when access is refused."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
    app.include_router(manage.router)
    app.include_router(team.router)
    app.state.unavailable_page = _unavailable
    app.include_router(audit.router)
    app.include_router(live.router)
    app.include_router(inbox.router)
    app.state.live_hub = live.Hub(app.state.sessions, app.state.engine)
    app.include_router(sso.router)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        target = "/login?next=" + quote(exc.next_path, safe="/")
        if request.url.path == "/live":  # an EventSource stops retrying on 204, not on a 303
            return Response(status_code=204)
        if request.headers.get("hx-request"):  # HTMX follows this header, not a 303
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden) -> HTMLResponse:
        return _error(request, 403, "Not for your role", f"{exc.what.capitalize()}.")

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, exc: BadCsrf) -> HTMLResponse:
        message = "This form was not sent from a page of this session; reload and try again."
        return _error(request, 403, "Form expired", message)


# Paths whose errors stay the JSON document: the APIs and what machines fetch.
NOT_PAGES = ("/api", "/v1", "/healthz", "/metrics", "/openapi.json", "/t.js", "/docs", "/redoc")
TITLES = {400: "That request was not understood", 403: "Not allowed", 404: "Page not found",
          405: "Not here", 409: "Not possible now", 422: "That request was not understood",
          500: "Something went wrong", 503: "Busy, try again"}  # fmt: skip


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None
) -> HTMLResponse | None:
    """An error as a page for a browser; None for the APIs (they answer JSON)."""
    path = request.url.path
    if any(path == p or path.startswith(f"{p}/") for p in NOT_PAGES):
        return None
    if status == 503:  # the server's trouble: say what to do, not what broke
        message = "The database is busy; nothing was changed. Try again in a moment."
    elif status >= 500:
        message = "Nothing was changed. Try again, or tell an admin."
    title = TITLES.get(status, f"Error {status}")
    response = _error(request, status, title, message[:1].upper() + message[1:])
    response.headers.update(headers or {})
    return response


def _unavailable(request: Request, message: str) -> Response | None:
    """The sign-in form again, saying why, when the database cannot take the sign-in."""
    if request.url.path != "/login":
        return None
    return login_page(request, "Signing in is not possible right now (the database cannot "
                      "record it); please try again in a moment.")  # fmt: skip


def _error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, "error.html", {"viewer": None, "title": title, "message": message},
        status_code=status,
    )  # fmt: skip
