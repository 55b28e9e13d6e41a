"""`/t.js`: the website tracker, served by leadflow itself so its origin is the API's."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, Response

router = APIRouter(tags=["website tracker"])
SCRIPT = Path(__file__).with_name("static") / "t.js"


@cache
def _script() -> bytes:
    return SCRIPT.read_bytes()


@router.get("/t.js", summary="The website tracker script (see the README for the snippet)")
def tracker() -> Response:
    """Page views, identify and form submissions, sent to /v1 with the page's write key."""
    return Response(
        _script(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )
