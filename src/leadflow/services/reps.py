"""Sales reps: add and list them, and their state for routing at a moment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, Forbidden, Invalid, NotFound
from leadflow.core.local_time import instant
from leadflow.core.redact import redact_url
from leadflow.core.routing import RepState
from leadflow.core.working_hours import WorkingHours
from leadflow.models.rep import Rep
from leadflow.repositories import reps as rep_repo
from leadflow.services import channel_logs  # noqa: F401  (keeps URLs out of Apprise's logs)


def check_channel(url: str) -> None:
    """Invalid naming the URL (its secrets hidden) when Apprise cannot use it (checked when
    saved, not when sent)."""
    import apprise  # loaded when a channel is checked, not with every command

    if not apprise.Apprise().add(url):
        shown = redact_url(url)
        raise Invalid(f"channel {shown} is not an Apprise URL Apprise can send to (see its docs)")


def redacted_channels(rep: Rep) -> list[str]:
    """The rep's channel URLs as anyone but an admin sees them: scheme and host."""
    return [redact_url(url) for url in rep.channels or []]


def owner_notes(session: Session, owners: Sequence[tuple[str | None, str]]) -> list[str | None]:
    """Per account, given as (owner, domain): a note when its owner is no rep's e-mail, else
    None. Such an owner is kept (the rep may be added later: routing reads the owner at each
    hand-off) but passed over until then. One check and wording for imports and the API."""
    if not any(owner for owner, _ in owners):
        return [None] * len(owners)
    known = rep_repo.emails(session)
    return [
        f"owner {owner} is no rep: {domain}'s leads go by the routing rules until a rep has "
        "that e-mail (leadflow reps add)"
        if owner and owner not in known
        else None
        for owner, domain in owners
    ]


def add_rep(session: Session, fields: dict[str, Any], *, now: datetime) -> Rep:
    """A new rep; Conflict when the e-mail exists, Invalid for bad hours, zone or channels."""
    email = str(fields["email"]).strip().lower()
    if rep_repo.get_by_email(session, email) is not None:
        raise Conflict(f"a rep with e-mail {email} exists")
    hours = fields.get("working_hours") or "mon-fri 09:00-17:00"
    zone = fields.get("timezone") or "UTC"
    try:
        WorkingHours.parse(hours, zone)
    except ValueError as exc:
        raise Invalid(f"working hours: {exc}") from None
    for url in fields.get("channels") or []:
        check_channel(url)
    values = {k: v for k, v in fields.items() if v is not None}
    values.update(email=email, working_hours=hours, timezone=zone, created_at=now)
    return rep_repo.create(session, **values)


def states(session: Session, now: datetime, reps: Sequence[Rep] | None = None) -> list[RepState]:
    """Every rep (or these, already read) as routing sees them now: load today (in their own
    zone), last lead, away."""
    reps = rep_repo.list_all(session) if reps is None else reps
    hours_of = {rep.id: WorkingHours.parse(rep.working_hours, rep.timezone) for rep in reps}
    midnights = {rep_id: hours.day_start(now) for rep_id, hours in hours_of.items()}
    loads = rep_repo.loads(session, now - timedelta(days=1, hours=14), midnights)
    found = []
    for rep in reps:
        today, last = loads.get(rep.id, (0, None))
        found.append(
            RepState(
                id=rep.id,
                name=rep.name,
                email=rep.email,
                team=rep.team,
                hours=hours_of[rep.id],
                weight=rep.weight,
                capacity=rep.capacity,
                assigned_today=today,
                last_assigned_at=last,
                out_of_office=rep.out_of_office_until is not None and now < rep.out_of_office_until,
                active=rep.active,
            )
        )
    return found


def update_rep(session: Session, rep_id: int, fields: dict[str, Any]) -> Rep:
    """Change a rep; the same checks as when adding."""
    rep = rep_repo.get(session, rep_id)
    if rep is None:
        raise NotFound(f"no rep with id {rep_id}")
    hours = fields.get("working_hours") or rep.working_hours
    zone = fields.get("timezone") or rep.timezone
    try:
        WorkingHours.parse(hours, zone)
    except ValueError as exc:
        raise Invalid(f"working hours: {exc}") from None
    for url in fields.get("channels") or []:
        check_channel(url)
    away = fields.get("out_of_office_until")
    if isinstance(away, datetime) and away.tzinfo is None:
        # A time without a zone (a day: its start) is the rep's, where they work: when their
        # clock reaches it (a time it skips, when it jumps past; not read with the old offset).
        back = instant(away.date(), away.time(), ZoneInfo(zone))
        fields = {**fields, "out_of_office_until": back}
    for name, value in fields.items():
        setattr(rep, name, value)
    return rep


def update_rep_by_email(session: Session, email: str, fields: dict[str, Any]) -> Rep:
    """`update_rep` for the rep with this e-mail."""
    rep = rep_repo.get_by_email(session, email.strip().lower())
    if rep is None:
        raise NotFound(f"no rep with e-mail {email!r}")
    return update_rep(session, rep.id, fields)


def list_reps(session: Session) -> list[Rep]:
    """Every rep, by team and name."""
    return rep_repo.list_all(session)


def accepting_rep(
    session: Session, lead_owner: str | None, rep_email: str | None, *, field: str = "rep"
) -> str:
    """Who owns a lead accepted by an API key or the CLI, which are not reps: the rep named
    (an active rep; Invalid otherwise, naming `field`), who must be its owner if it has one
    (Conflict); no rep named, its owner."""
    if not rep_email:
        if lead_owner is None:
            message = (f"{field}: required to accept a lead nobody owns: the e-mail of the "
                       "active rep who takes it")  # fmt: skip
            raise Invalid(message, [(field, message)])
        return lead_owner
    rep = _active(session, rep_email)
    if rep is None:
        message = f"{field}: {rep_email.strip().lower()} is not an active rep"
        raise Invalid(message, [(field, message)])
    refusal = accept_refusal(lead_owner, rep.email)
    if refusal is not None:
        raise Conflict(refusal)
    return rep.email


def accepting_person(session: Session, lead_owner: str | None, email: str) -> str:
    """Who owns a lead a person accepts in the pages: that person, who must be an active rep
    (Forbidden otherwise) and the lead's owner if it has one (Conflict: the API's rule)."""
    taker = taker_of(session, email)
    if taker is None:
        raise Forbidden(f"{email} is not an active rep; only a rep can take a lead")
    refusal = accept_refusal(lead_owner, taker)
    if refusal is not None:
        raise Conflict(refusal)
    return taker


def may_accept(session: Session, lead_owner: str | None, email: str) -> bool:
    """Whether `accepting_person` would let this person accept the lead (what pages offer)."""
    return accept_refusal(lead_owner, taker_of(session, email)) is None


def taker_of(session: Session, email: str) -> str | None:
    """The rep e-mail under which this person would take a lead; None: they are no active rep."""
    rep = _active(session, email)
    return rep.email if rep is not None else None


def team_queues(session: Session, email: str) -> list[str]:
    """The teams whose unowned leads this person's queue shows, which they may accept: an
    active rep's own team (`accept_refusal`: an active rep takes a lead nobody owns)."""
    rep = _active(session, email)
    return [rep.team] if rep is not None else []


def accept_refusal(lead_owner: str | None, taker: str | None) -> str | None:
    """Why a lead owned by `lead_owner` may not be accepted by `taker` (`taker_of`), or None
    when it may: an active rep takes a lead nobody owns; a lead with an owner is theirs."""
    if taker is None:
        return "only an active rep can take a lead"
    if lead_owner is not None and lead_owner != taker:
        return f"the lead belongs to {lead_owner}; only they can accept it"
    return None


def is_active_rep(session: Session, email: str) -> bool:
    """Whether this e-mail is an active rep's."""
    return _active(session, email) is not None


def _active(session: Session, email: str) -> Rep | None:
    """The active rep with this e-mail (as typed: trimmed, any case), if any."""
    rep = rep_repo.get_by_email(session, email.strip().lower())
    return rep if rep is not None and rep.active else None


def status_now(session: Session, reps: Sequence[Rep], now: datetime) -> dict[int, tuple[str, str]]:
    """Each of these reps' (kind, label) as routing sees them now, for the team page: whether
    they take a lead at this moment and, if not, what keeps them (routing's own check)."""
    away_until = {rep.id: rep.out_of_office_until for rep in reps}
    found = {}
    for state in states(session, now, reps):
        today = f"{state.assigned_today} of {state.capacity}"
        match state.blocker(now):
            case None:
                found[state.id] = ("good", f"taking leads · {today} today")
            case "inactive":
                found[state.id] = ("bad", "inactive")
            case "out of office":
                found[state.id] = ("warn", f"away until {away_until[state.id]:%Y-%m-%d}")
            case "at capacity":
                found[state.id] = ("warn", f"full today ({today})")
            case "off hours":
                found[state.id] = ("muted", "off hours now")
    return found
