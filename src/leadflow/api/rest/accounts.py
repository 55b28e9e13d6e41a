"""/api/accounts: list by score, show with the buying group, create or update by domain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from leadflow.api.deps import DbSession, Now, require
from leadflow.api.rest.schemas import AccountIn, Offset
from leadflow.api.strict_body import StrictRoute
from leadflow.core.roles import Permission
from leadflow.models.api_key import ApiKey
from leadflow.services import accounts, playbooks, reps

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=StrictRoute)
Reader = Annotated[ApiKey, Depends(require(Permission.READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.WRITE_ACCOUNTS))]


@router.get("", summary="List accounts, highest score first")
def list_accounts(
    session: DbSession,
    _: Reader,
    tier: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """A page of accounts: `items`, the `total` matching, `limit` and `offset`."""
    items, total = accounts.page(session, tier=tier, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{key}", summary="One account by id or domain, with its people")
def show_account(key: str, session: DbSession, _: Reader) -> dict[str, Any]:
    """The account's score, tier, and its leads highest score first."""
    return accounts.detail(session, key)


@router.post("", summary="Create or update an account by domain (its leads re-scored)")
def put_account(
    body: AccountIn, session: DbSession, now: Now, _: Writer, response: Response
) -> dict[str, Any]:
    """201 when new, 200 when an account with the domain was updated. `notes`: what to know
    about it, such as an `owner` no rep has as e-mail (kept, but routing passes it over until
    a rep has it), as `leadflow import accounts` notes it."""
    book = playbooks.active_playbook(session)
    fields = body.model_dump(exclude_unset=True)
    account, created = accounts.upsert(session, book, fields, now=now)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/accounts/{account.id}"
    said = reps.owner_notes(session, [(account.owner, account.domain)]) if "owner" in fields else []
    return {**accounts.detail(session, str(account.id)), "notes": [n for n in said if n]}
