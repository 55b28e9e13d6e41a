"""The web app both teams work in: server-rendered pages (Jinja2 + HTMX), no build step, no
outside host (htmx and Chart.js are vendored under static/vendor)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from leadflow.web import audit, manage
from leadflow.web.auth import BadCsrf, PageForbidden, SignInRequired
from leadflow.web.pages import TEMPLATES, router

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and how they answer when access is refused."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
    app.include_router(manage.router)
    app.include_router(audit.router)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        target = f"/login?next={exc.next_path}"
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


def _error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, "error.html", {"viewer": None, "title": title, "message": message},
        status_code=status,
    )  # fmt: skip
