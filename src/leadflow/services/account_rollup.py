"""Accounts' buying-group scores kept by differences: one lead's change costs the same at an
account of 10,000 leads as at a small one (see `core.account_rollup`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.account_rollup import engaged, hundredths, score_rollup
from leadflow.core.accounts import account_only
from leadflow.core.facts import facts_of
from leadflow.core.playbook import Playbook
from leadflow.models.account import Account
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import rule_state as repo
from leadflow.services.leads import account_dict

Member = tuple[int, int, bool]  # account id, hundredths, engaged


def update(
    session: Session,
    playbook: Playbook,
    leads: Sequence[Lead],
    now: datetime,
    left: Iterable[int] = (),
) -> set[int]:
    """Count these (flushed, just scored) leads' engagement in their accounts, and re-score the
    accounts they are at or have left; those accounts' ids. `left`: accounts the caller moved
    them away from. The roll-up's members know only the moves of leads it has counted: a lead
    scored in bulk has none, and an account it leaves without a roll-up would keep the bulk
    score that counted it. Named here, it is counted afresh as any account with no roll-up."""
    lead_ids = [lead.id for lead in leads]
    new: dict[int, Member] = {
        lead.id: (lead.account_id, hundredths(lead.engagement), engaged(playbook, lead.engagement))
        for lead in leads
        if lead.account_id is not None
    }
    members = repo.members(session, lead_ids)
    affected = {m[0] for m in members.values()} | {m[0] for m in new.values()} | set(left)
    if not affected:
        return affected
    # Roll-ups change by differences: writers of one account take turns (its row locked).
    account_repo.lock(session, affected)
    rollups = repo.rollups(session, affected)
    if _counted(session, playbook, affected, rollups):
        members = repo.members(session, lead_ids)
    _apply(session, rollups, members, new, lead_ids)
    _score(session, playbook, rollups, sorted(affected), now)
    return affected


def _counted(
    session: Session, playbook: Playbook, affected: set[int], rollups: dict[int, dict[str, Any]]
) -> bool:
    """Count every lead afresh at the affected accounts with no roll-up (first time, or counted
    another way), `rollups` updated in place; True when any was. Counting an account forgets
    the roll-up of an account its leads had left (it counted them): when that one is affected
    too (the lead moving now left it), it is counted afresh in turn, or its score would stay
    as it was before the move."""
    threshold = playbook.account_scoring.engaged_min_engagement
    counted: set[int] = set()  # each at most once: the loop ends
    while missing := sorted(
        a for a in affected - counted if rollups.get(a, {}).get("engaged_min") != threshold
    ):
        repo.rebuild_rollups(session, missing, threshold)
        counted.update(missing)
        rollups.clear()
        rollups.update(repo.rollups(session, affected))
    return bool(counted)


def _apply(
    session: Session,
    rollups: dict[int, dict[str, Any]],
    members: dict[int, Member],
    new: dict[int, Member],
    lead_ids: list[int],
) -> None:
    saved: list[dict[str, Any]] = []
    gone: list[int] = []
    touched: set[int] = set()
    for lead_id in lead_ids:
        old, now_counted = members.get(lead_id), new.get(lead_id)
        if old == now_counted:
            continue
        for member, sign in ((old, -1), (now_counted, 1)):
            if member is not None:
                rollup = rollups[member[0]]
                rollup["hundredths"] += sign * member[1]
                rollup["engaged"] += sign * int(member[2])
                rollup["leads"] += sign
                touched.add(member[0])
        if now_counted is None:
            gone.append(lead_id)
        else:
            account_id, points, is_engaged = now_counted
            saved.append(
                {
                    "lead_id": lead_id,
                    "account_id": account_id,
                    "hundredths": points,
                    "engaged": is_engaged,
                }
            )
    repo.save_members(session, saved, gone)
    repo.save_rollups(session, [rollups[a] for a in sorted(touched)])


def _score(
    session: Session,
    playbook: Playbook,
    rollups: dict[int, dict[str, Any]],
    account_ids: list[int],
    now: datetime,
) -> None:
    scoped = account_only(playbook)
    for account_id in account_ids:  # loaded by the caller: taken from the session, no query
        account = session.get(Account, account_id)
        if account is None:
            continue
        rollup = rollups[account.id]
        tier = playbook.tier_of(account.domain)
        # The account's facts as every condition reads them (custom attributes flattened, as
        # the bulk path reads them), not its raw row.
        facts = {**facts_of(playbook, {}, account_dict(account))["account"],
                 "tier": tier.id if tier else None}  # fmt: skip
        score = score_rollup(
            playbook, facts, rollup["hundredths"], rollup["engaged"], rollup["leads"], scoped
        )
        account.fit, account.engagement, account.total = score.fit, score.engagement, score.total
        account.engaged_leads = score.engaged_leads
        account.tier = tier.id if tier else None
        account.updated_at = now


def recount(
    session: Session, playbook: Playbook, account_ids: Sequence[int], now: datetime
) -> None:
    """Count these accounts' leads afresh (after a bulk change to them) and re-score them."""
    if not account_ids:
        return
    threshold = playbook.account_scoring.engaged_min_engagement
    repo.rebuild_rollups(session, account_ids, threshold)
    _score(session, playbook, repo.rollups(session, account_ids), list(account_ids), now)
    # Written now: bulk steps after it (the decay pass's re-score of leads without states)
    # read and write accounts with plain SQL; flushed later, these scores would overwrite
    # theirs with figures counted before those leads were scored.
    session.flush()
