"""`/t.js`, the website tracker, and `/playbook.schema.json`: files the API serves itself."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Response

from leadflow.core.playbook import json_schema

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


@cache
def _schema() -> bytes:
    return json.dumps(json_schema(), indent=2).encode()


@router.get(
    "/playbook.schema.json",
    summary="The playbook's JSON Schema (for editors: `# yaml-language-server: $schema=URL`)",
)
def playbook_schema() -> Response:
    """The JSON Schema every playbook follows; the same as `leadflow playbook schema`."""
    return Response(
        _schema(),
        media_type="application/schema+json",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )
