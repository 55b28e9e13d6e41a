"""Merging two records of one person: the data-quality report finds them, a person confirms.

Everything the duplicate had moves to the lead kept: events, identities, stage history and
hand-offs. Its address, and any merged into it before, name the lead kept from then on
(`leads.fold_email`: its own address when it has none), so the person's next event, import
row or lead under that address finds the lead kept instead of making the duplicate again,
and erasing the person buries them all. Empty fields of the kept lead are filled from the
duplicate (the kept lead's own values win), the further stage of the two is kept, and the
lead is re-scored from the combined history. The merge is written on the timeline with its
actor (a note); a stage it takes from the duplicate is on the stage history as the merge's
own row (`MERGE_ACTOR`), which the reports count as no entry into the stage.

The owner goes with the hand-off waiting for a first touch, never without it: the kept
lead's own waiting hand-off stays, with its owner (the duplicate's beside it is closed: one
person, one hand-off); else the duplicate's moves over with its rep, deadline and owner; with
none waiting, the owner is filled as the other fields are. Whoever owned either record and
does not own the lead kept is told who does (`reassign.tell_previous_owner`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, Invalid, NotFound
from leadflow.core.lifecycle import MERGE_ACTOR, Transition
from leadflow.core.playbook import Playbook
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.assignment import Assignment
from leadflow.models.lead import Lead
from leadflow.repositories import claims
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import reps as rep_repo
from leadflow.services import audit, leads, lifecycle, pipeline, reassign, sales

# Not `owner`: it goes with the hand-off waiting for a first touch (`_owner`).
FILLED = (
    "first_name", "last_name", "title", "phone", "country", "source", "medium", "campaign",
    "account_id", "outcome", "outcome_reason", "outcome_amount", "closed_at", "recycle_until",
)  # fmt: skip
EVER = datetime(1, 1, 1, tzinfo=UTC)  # before any event: for a lead that never changed stage


def merge_leads(
    session: Session, playbook: Playbook, keep_key: str, duplicate_key: str, *, actor: str,
    now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """Fold the duplicate into the kept lead; the kept lead's detail afterwards."""
    keep, duplicate = leads.find(session, keep_key), leads.find(session, duplicate_key)
    # As every creator does before it looks a person up by e-mail (one naming either address
    # waits for the merge, then finds the address it folds in on the lead kept); `freeing`:
    # the duplicate's address is let go, so a big import of it waits too.
    addresses = [x.email for x in (keep, duplicate) if x.email]
    claims.claim_people(session, emails=addresses, freeing=True)
    keep, duplicate = _afresh(session, keep, duplicate)
    _refuse_bad(keep, duplicate, actor)
    owners = (keep.owner, duplicate.owner)
    own, theirs = (reassign.waiting_hand_off(session, lead.id) for lead in (keep, duplicate))
    moved = lead_repo.move_history(session, from_lead=duplicate.id, to_lead=keep.id)
    _fill(keep, duplicate)
    keep.owner = _owner(keep, duplicate, own, theirs)
    further = _further_stage(keep, duplicate)
    email, duplicate_id, left = duplicate.email, duplicate.id, duplicate.account_id
    entered = duplicate.stage_changed_at or duplicate.created_at
    session.delete(duplicate)
    session.flush()
    if email is not None:
        lead_repo.fold_email(session, email, keep, now)
    closed = _one_waiting(session, own, theirs)
    if further is not None:
        # The duplicate's history, now the kept lead's, holds its move into that stage: the
        # merge's row is bookkeeping (its own actor), no entry into a stage in any report nor
        # the end of a stay, and the lead is in the stage since the duplicate entered it.
        reason = f"merged with {email}, which was {further.value}"
        move = Transition(Stage(keep.stage), further, reason, MERGE_ACTOR)
        lifecycle.record(session, keep, move, now, entered_at=entered)
    note = f"Merged with {email} ({moved} events)"
    sales.add_note(session, keep, actor=actor, text=note, now=now)
    # The duplicate's events are the kept lead's now, as an identify's anonymous past is: the
    # stage step sees those since its last stage change, as a re-score of them would.
    since = event_repo.facts_since(
        session, [keep.id], keep.stage_changed_at or EVER, event_repo.ALL_ROOTS
    )
    pipeline.run_live(
        session, playbook, [keep.id], now, cause=f"merged with {email}", attributed=since
    )
    # The duplicate's account, when it is not the kept lead's, no longer counts it.
    pipeline.run_accounts(session, playbook, {left} - {keep.account_id}, now, actor=actor)
    # Whoever owned either record and does not own the lead kept hears who does.
    for before in dict.fromkeys(owner for owner in owners if owner):
        reassign.tell_previous_owner(session, playbook, keep, before,
                                     reason=f"merged with {email} by {actor}", now=now)  # fmt: skip
    details: dict[str, Any] = {"merged_lead": duplicate_id, "events_moved": moved}
    if closed is not None:
        details["closed_assignment"] = closed
    audit.record(
        session, actor=actor, action="lead.merge", target=f"lead:{keep.id}", details=details,
        now=now,
    )  # fmt: skip
    return {"kept": keep.email, "merged": email, "events_moved": moved}


def _afresh(session: Session, keep: Lead, duplicate: Lead) -> tuple[Lead, Lead]:
    """Both leads read again once claimed, and held (by id: the global order): what a writer
    the claim waited for wrote to them is merged, not lost. NotFound when one has gone
    meanwhile (merged away or erased)."""
    found = {
        lead.id: lead for lead in lead_repo.get_many(session, [keep.id, duplicate.id], lock=True)
    }
    for lead in (keep, duplicate):
        if lead.id not in found:
            raise NotFound(f"lead {lead.id} was merged or erased meanwhile")
    return found[keep.id], found[duplicate.id]


def _refuse_bad(keep: Lead, duplicate: Lead, actor: str) -> None:
    if keep.id == duplicate.id:
        raise Invalid("a lead cannot be merged with itself")
    if not actor.strip():
        raise Invalid("a merge needs an actor")
    if keep.outcome and duplicate.outcome and keep.outcome != duplicate.outcome:
        raise Conflict(
            f"{keep.email} was {keep.outcome} and {duplicate.email} {duplicate.outcome}: "
            "close or reopen one of them first"
        )
    amounts = (keep.outcome_amount, duplicate.outcome_amount)
    if keep.outcome == "won" == duplicate.outcome and None not in amounts and len(set(amounts)) > 1:
        # A lead holds one deal: merging would drop one amount from every revenue report.
        raise Conflict(
            f"{keep.email} was won for {amounts[0]:,.10g} and {duplicate.email} for "
            f"{amounts[1]:,.10g}: a lead holds one deal, and merging would drop one amount "
            "from the revenue reports; keep the two records apart"
        )


def _owner(
    keep: Lead, duplicate: Lead, own: Assignment | None, theirs: Assignment | None
) -> str | None:
    """The kept lead's owner: its waiting hand-off's (its own; else the duplicate's, which
    brings the duplicate's owner). With none waiting, its own, else the duplicate's: a lead
    with no hand-off waiting takes any owner (`reassign.change_owner`)."""
    if own is not None:
        return keep.owner
    if theirs is not None:
        return duplicate.owner
    return keep.owner if keep.owner is not None else duplicate.owner


def _one_waiting(session: Session, own: Assignment | None, theirs: Assignment | None) -> int | None:
    """Leave the kept lead one hand-off waiting for a first touch, as its newest (the one
    the queue and the lead's page show): its own, else the duplicate's. The duplicate's
    beside its own is closed, so the ladder neither reminds nor escalates it (its owner hears
    who has the person now). The closed hand-off's id, if one was."""
    if theirs is not None:
        session.refresh(theirs)  # moved to the kept lead by an UPDATE the session missed
    waiting = own or theirs
    if waiting is not None:
        rep_repo.as_newest(session, waiting)
    if own is None or theirs is None:
        return None
    theirs.status = "closed"
    return theirs.id


def _fill(keep: Lead, duplicate: Lead) -> None:
    for name in FILLED:
        if getattr(keep, name) is None and getattr(duplicate, name) is not None:
            setattr(keep, name, getattr(duplicate, name))
    keep.attributes = {**(duplicate.attributes or {}), **(keep.attributes or {})}
    keep.reached_rank = max(keep.reached_rank, duplicate.reached_rank)
    keep.created_at = min(keep.created_at, duplicate.created_at)


def _further_stage(keep: Lead, duplicate: Lead) -> Stage | None:
    """The duplicate's stage when it is further down the funnel than the kept lead's."""
    mine, theirs = Stage(keep.stage), Stage(duplicate.stage)
    return theirs if funnel_rank(theirs) > funnel_rank(mine) else None
