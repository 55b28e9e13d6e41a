"""/api/playbook: the active agreement, its versions, validation, and apply with a preview."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from leadflow.api.deps import DbSession, Now, actor_of, require
from leadflow.api.rest.schemas import PlaybookText
from leadflow.api.strict_body import StrictRoute
from leadflow.core import strict_json
from leadflow.core.errors import Invalid
from leadflow.core.playbook_text import MAX_PLAYBOOK_TEXT, PlaybookInvalid, parse_playbook
from leadflow.core.plural import counted
from leadflow.core.roles import Permission
from leadflow.models.api_key import ApiKey
from leadflow.services import playbooks, shadow

router = APIRouter(prefix="/playbook", tags=["playbook"], route_class=StrictRoute)
Reader = Annotated[ApiKey, Depends(require(Permission.READ))]
Editor = Annotated[ApiKey, Depends(require(Permission.PLAYBOOK))]
BODY_DOC = {
    "requestBody": {
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": PlaybookText.model_json_schema()},
        },
        "required": True,
    }
}


@router.get("", summary="The active playbook: version, author, text and parsed form")
def active(session: DbSession, _: Reader) -> dict[str, Any]:
    """404 when none is installed yet."""
    version = playbooks.active_version(session)
    return {
        "version": version.version,
        "name": version.name,
        "content_hash": version.content_hash,
        "author": version.author,
        "created_at": version.created_at.isoformat(),
        "content": version.content,
        "playbook": playbooks.playbook_of(version).model_dump(mode="json", by_alias=True),
    }


@router.get("/versions", summary="Every version, newest first")
def versions(session: DbSession, _: Reader) -> list[dict[str, Any]]:
    """Version number, hash, author, time, whether it is active or runs in the shadow."""
    return [
        {
            "version": v.version,
            "name": v.name,
            "content_hash": v.content_hash,
            "author": v.author,
            "created_at": v.created_at.isoformat(),
            "active": v.active,
            "shadow": v.shadow,
        }
        for v in playbooks.versions(session)
    ]


async def playbook_text(request: Request) -> str:
    """The YAML text: the raw body (YAML or text), or `content` of a JSON body."""
    raw = await request.body()
    if len(raw) > MAX_PLAYBOOK_TEXT:
        raise Invalid(f"playbook is over {MAX_PLAYBOOK_TEXT // 1000} KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("playbook is not UTF-8 text") from None
    if "json" in request.headers.get("content-type", ""):
        try:
            document = strict_json.loads(raw)
        except json.JSONDecodeError as exc:
            raise Invalid(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(document, dict) or not isinstance(document.get("content"), str):
            raise Invalid("content: required, the playbook's YAML text", [("content", "required")])
        text = document["content"]
    if not text.strip():
        raise Invalid("the playbook is empty: send its YAML text")
    return text


def _checked(text: str) -> None:
    try:
        parse_playbook(text)
    except PlaybookInvalid as exc:
        problems = [
            (p.path or "(top)", f"line {p.line}: {p.message}" if p.line else p.message)
            for p in exc.problems
        ]
        many = counted(len(problems), "problem")
        raise Invalid(f"the playbook is not valid ({many})", problems) from None


@router.post("/validate", summary="Check a playbook without installing it", openapi_extra=BODY_DOC)
async def validate(request: Request, _: Editor) -> dict[str, Any]:
    """200 `{"valid": true}`, or 422 with each problem's path and line."""
    _checked(await playbook_text(request))
    return {"valid": True}


@router.post(
    "/apply", summary="Install a playbook and re-score, or preview it", openapi_extra=BODY_DOC
)
async def apply(
    request: Request, session: DbSession, now: Now, caller: Editor, dry_run: bool = False
) -> dict[str, Any]:
    """With `dry_run=true` nothing changes: the diff and the stage moves it would make."""
    text = await playbook_text(request)
    _checked(text)
    preview = session.begin_nested() if dry_run else None
    outcome = playbooks.apply(session, text, author=caller.name, now=now, dry_run=dry_run)
    if preview is not None:
        preview.rollback()
    return _applied(outcome)


def _applied(outcome: playbooks.ApplyOutcome) -> dict[str, Any]:
    return {
        "version": outcome.version,
        "unchanged": outcome.unchanged,
        "dry_run": outcome.dry_run,
        "diff": outcome.diff,
        "leads_rescored": outcome.leads_rescored,
        "stage_moves": [
            {"from": a, "to": b, "leads": n} for (a, b), n in sorted(outcome.stage_moves.items())
        ],
    }


@router.post(
    "/shadow",
    summary="Run a candidate beside the active playbook on live events, acting on nothing",
    openapi_extra=BODY_DOC,
)
async def shadow_start(
    request: Request, session: DbSession, now: Now, caller: Editor
) -> dict[str, Any]:
    """The candidate's version; `GET /api/playbook/compare` then shows how it does."""
    text = await playbook_text(request)
    _checked(text)
    version = shadow.start(session, text, author=actor_of(caller), now=now)
    return {"version": version.version, "name": version.name, "shadow": True}


@router.delete("/shadow", summary="Stop the shadow candidate (its version is kept)")
def shadow_stop(session: DbSession, now: Now, caller: Editor) -> dict[str, Any]:
    """404 when no candidate runs."""
    version = shadow.stop(session, author=actor_of(caller), now=now)
    return {"version": version.version, "name": version.name, "shadow": False}


@router.get("/compare", summary="The shadow candidate against the active playbook")
def compare(session: DbSession, _: Reader) -> dict[str, Any]:
    """On the leads both scored: MQLs, MQLs won, ROC-AUC on closed leads, disagreements."""
    return shadow.compare_live(session)


@router.post(
    "/backtest",
    summary="Compare a candidate with the active playbook on history; nothing changes",
    openapi_extra=BODY_DOC,
)
async def backtest(request: Request, session: DbSession, now: Now, _: Editor) -> dict[str, Any]:
    """The figures `compare` gives, from every lead scored by both playbooks now."""
    text = await playbook_text(request)
    _checked(text)
    preview = session.begin_nested()
    figures = shadow.backtest(session, text, now)
    preview.rollback()
    return figures


@router.post("/promote", summary="Make the shadow candidate the active playbook, or preview it")
def promote(session: DbSession, now: Now, caller: Editor, dry_run: bool = False) -> dict[str, Any]:
    """The usual apply: diff, re-score, stage moves; with `dry_run=true` nothing changes."""
    preview = session.begin_nested() if dry_run else None
    outcome = shadow.promote(session, author=actor_of(caller), now=now, dry_run=dry_run)
    if preview is not None:
        preview.rollback()
    return _applied(outcome)
