"""/api/leads: list, show (score explained, history, timeline), create, edit, stage actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from leadflow.api.deps import DbSession, Now, actor_of, require
from leadflow.api.rest.schemas import (
    ActionIn,
    LeadIn,
    LeadPatch,
    MergeIn,
    NoteIn,
    Offset,
    TouchIn,
)
from leadflow.api.strict_body import StrictRoute
from leadflow.core.lifecycle import Action
from leadflow.core.roles import Permission
from leadflow.core.scoring import GRADE_PATTERN
from leadflow.core.stages import Stage
from leadflow.models.api_key import ApiKey
from leadflow.models.lead import Lead
from leadflow.services import (
    access,
    audit,
    lead_edits,
    leads,
    lifecycle,
    merge,
    playbooks,
    reps,
    sales,
)
from leadflow.services.leads import LeadFilter

router = APIRouter(prefix="/leads", tags=["leads"], route_class=StrictRoute)
Reader = Annotated[ApiKey, Depends(require(Permission.READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.WRITE_LEADS))]
Seller = Annotated[ApiKey, Depends(require(Permission.SALES))]
# The orders of repositories.lead_lists.SORTS (a test keeps the two the same).
SortKey = Literal["total", "-total", "fit", "engagement", "stage", "grade", "owner", "created"]


@router.get("", summary="List leads, highest score first by default")
def list_leads(
    session: DbSession,
    caller: Reader,
    stage: Stage | None = None,
    grade: Annotated[str | None, Query(pattern=GRADE_PATTERN)] = None,
    persona: str | None = None,
    owner: str | None = None,
    sort: SortKey = "total",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """A page of leads: `items`, the `total` matching, `limit` and `offset`."""
    stage_name = stage.value if stage else None
    scope = access.owner_scope(access.Actor.key(caller))  # None for every key (see access)
    wanted = LeadFilter(stage=stage_name, grade=grade, persona=persona, owner=scope or owner)
    items, total = leads.page(session, wanted, sort=sort, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{key}", summary="One lead by id or e-mail, its score explained, with its timeline")
def show_lead(key: str, session: DbSession, now: Now, caller: Reader) -> dict[str, Any]:
    """The fields of `leadflow leads show --json` plus `events`, newest first."""
    _lead(session, key, caller, Permission.READ)
    return _detail(session, key, now)


def _lead(session: DbSession, key: str, caller: ApiKey, permission: Permission) -> Lead:
    """The lead, when the access rules let this key do `permission` to it (else 403)."""
    lead = lead_edits.find(session, key)
    access.check(access.Actor.key(caller), lead, permission)
    return lead


def _held(session: DbSession, key: str, caller: ApiKey, permission: Permission) -> Lead:
    """As `_lead`, for an edit: the lead read afresh and held until the commit, so a merge or
    erasure of it meanwhile is a 409 or 404 naming what became of it (`leads.held`)."""
    lead = leads.held(session, key)
    access.check(access.Actor.key(caller), lead, permission)
    return lead


def _detail(session: DbSession, key: str, now: Any) -> dict[str, Any]:
    book = playbooks.active_playbook(session)
    data = leads.detail(session, key, book, now)
    data["events"] = leads.timeline(session, data["id"])
    return data


@router.post("", status_code=201, summary="Create a lead (scored at once)")
def create_lead(
    body: LeadIn, session: DbSession, now: Now, caller: Writer, response: Response
) -> dict[str, Any]:
    """409 when a lead with the e-mail exists."""
    book = playbooks.active_playbook(session)
    fields = body.model_dump(exclude_unset=True)
    lead = lead_edits.create_lead(session, book, fields, now=now, actor=actor_of(caller))
    _audit_edit(session, caller, "lead.create", lead.id, fields, now)
    response.headers["Location"] = f"/api/leads/{lead.id}"
    return _detail(session, str(lead.id), now)


@router.patch("/{key}", summary="Update a lead's fields and attributes (re-scored at once)")
def update_lead(
    key: str, body: LeadPatch, session: DbSession, now: Now, caller: Writer
) -> dict[str, Any]:
    """Only the fields sent change; `attributes` merge key by key."""
    book = playbooks.active_playbook(session)
    lead = _held(session, key, caller, Permission.WRITE_LEADS)
    fields = body.model_dump(exclude_unset=True)
    lead_edits.update_lead(session, book, lead, fields, now=now, actor=actor_of(caller))
    _audit_edit(session, caller, "lead.edit", lead.id, fields, now)
    return _detail(session, str(lead.id), now)


def _audit_edit(
    session: DbSession, caller: ApiKey, action: str, lead_id: int, fields: dict[str, Any],
    now: datetime,
) -> None:  # fmt: skip
    """Which fields changed, never their values: those are the person's data."""
    changed = sorted(k for k in fields if k != "email")
    details = {"fields": changed, "attributes": sorted(fields.get("attributes") or {})}
    target = f"lead:{lead_id}"
    audit.record(session, actor=actor_of(caller), action=action, target=target, details=details,
                 now=now)  # fmt: skip


@router.post(
    "/{key}/actions", summary="A stage action: accept, recycle, disqualify, convert, close"
)
def stage_action(
    key: str, body: ActionIn, session: DbSession, now: Now, caller: Seller
) -> dict[str, Any]:
    """409 when the action does not fit the lead's stage; recycle and disqualify need a reason."""
    lead = _held(session, key, caller, Permission.SALES)
    actor, owner = caller.name, None
    if body.action is Action.ACCEPT:  # a key is not a person: a rep takes the lead
        owner = reps.accepting_rep(session, lead.owner, body.rep)
        actor = f"{owner} (API key {caller.name})"
    move = lifecycle.act(
        session,
        lead,
        body.action,
        actor=actor,
        owner=owner,
        reason=body.reason,
        now=now,
        recycle_days=body.recycle_days,
        reengage_on=_midnight(body.reengage_on),
        amount=body.amount,
        expected_close=body.expected_close.isoformat() if body.expected_close else None,
    )
    data = _detail(session, str(lead.id), now)
    data["transition"] = {  # what this action did
        "from": move.from_stage.value,
        "to": move.to_stage.value,
        "reason": move.reason,
        "actor": move.actor,
    }
    return data


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), UTC) if day else None


@router.post("/{key}/touches", summary="Log a call, e-mail or meeting (the SLA's first touch)")
def log_touch(
    key: str, body: TouchIn, session: DbSession, now: Now, caller: Seller
) -> dict[str, Any]:
    """Questions and objections are kept as tags, so marketing can answer them with content."""
    lead = _held(session, key, caller, Permission.SALES)
    touch = sales.log_touch(
        session,
        lead,
        actor=caller.name,
        channel=body.channel,
        text=body.text,
        questions=body.questions,
        objections=body.objections,
        now=now,
    )
    return {**_detail(session, str(lead.id), now), "touch": touch}


@router.post("/{key}/merge", summary="Merge a duplicate lead into this one")
def merge_duplicate(
    key: str, body: MergeIn, session: DbSession, now: Now, caller: Writer
) -> dict[str, Any]:
    """The duplicate's events, history and hand-offs move here; 404 for either lead unknown."""
    for either in (key, body.duplicate):  # not held here: the merge claims first (`_afresh`)
        _lead(session, either, caller, Permission.WRITE_LEADS)
    book = playbooks.active_playbook(session)
    result = merge.merge_leads(session, book, key, body.duplicate, actor=caller.name, now=now)
    return {**result, "lead": _detail(session, key, now)}


@router.post("/{key}/notes", summary="Add a note (either team)", status_code=201)
def add_note(
    key: str, body: NoteIn, session: DbSession, now: Now, caller: Writer
) -> dict[str, Any]:
    """The note shows on the lead's timeline and in its next alert."""
    lead = _held(session, key, caller, Permission.WRITE_LEADS)
    sales.add_note(session, lead, actor=caller.name, text=body.text, now=now)
    return _detail(session, str(lead.id), now)
