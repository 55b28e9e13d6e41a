"""The huddle's digest and the win announcement: the shared numbers, pushed to where both teams
read them.

The digest gathers the period's funnel, both sides of the SLA, the top and bottom campaigns,
recycle and lost reasons, and the new customers with the campaigns and content on their path.
A win announcement goes to the `wins` channels when a deal closes, crediting the same path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.periods import current_period, next_run, parse_period
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.models.goal import SharedChannel
from leadflow.models.lead import Lead
from leadflow.repositories import goals as goal_repo
from leadflow.repositories import reports as queries
from leadflow.services import handoff
from leadflow.services.reports import funnel, team
from leadflow.services.reps import check_channel

TOP = 3
PATH_ITEMS = 5
CUSTOMERS_LISTED = 20  # the biggest wins, each with its path


def _window(period: str | None, now: datetime) -> tuple[str, datetime, datetime]:
    name = period or current_period("month", now)
    try:
        start, end = parse_period(name)
    except ValueError as exc:
        raise Invalid(f"period: {exc}") from None
    return name, start, end


def build(
    session: Session, playbook: Playbook, period: str | None, now: datetime
) -> dict[str, Any]:
    """The digest of a period (default: this month) as data, with a text version for chat."""
    name, start, end = _window(period, now)
    cohort = Cohort(since=start, until=end)
    stages = {r["stage"]: r["reached"] for r in funnel.funnel(session, cohort)["rows"]}
    campaigns = funnel.conversion(session, cohort, "campaign")["rows"]
    ranked = [c for c in campaigns if c["campaign"] is not None]
    quality = team.lead_quality(session, cohort)
    won = queries.won_between(session, start, end, limit=CUSTOMERS_LISTED)
    customers = [path_of(session, lead) for lead in won]
    data = {
        "period": name,
        # Two views, kept apart: what moved in the period (any lead, marketing's MQLs among
        # them) and how far the period's new leads got (the cohort).
        "entered": {stage: queries.entries(session, stage, start, end) for stage in stages},
        "funnel": stages,
        # Sales judged on the hand-offs made in the period, as `leadflow sla` judges them.
        "sla": {
            "marketing": team.marketing_sla(session, playbook, start, end),
            "sales": team.sla_by_team(session, start, end),
        },
        "top_campaigns": ranked[:TOP],
        "bottom_campaigns": ranked[max(TOP, len(ranked) - TOP) :][::-1],  # never the top ones
        "recycle_reasons": quality["rows"][:5],
        "lost_reasons": quality["lost_reasons"][:5],
        "new_customers": customers,
    }
    data["title"] = f"Sales and marketing huddle: {name}"
    data["text"] = digest_text(data)
    return data


def path_of(session: Session, lead: Lead) -> dict[str, Any]:
    """A won lead with the campaigns and the content that touched it before the win."""
    campaigns, content = queries.path_to_win(session, lead.id)
    return {
        "email": lead.email,
        "name": " ".join(p for p in (lead.first_name, lead.last_name) if p) or None,
        "amount": lead.outcome_amount,
        "owner": lead.owner,
        "closed_at": lead.closed_at.isoformat() if lead.closed_at else None,
        # The campaign it was acquired by, then the ones it touched, each named once.
        "campaigns": list(dict.fromkeys(c for c in [lead.campaign, *campaigns] if c))[:PATH_ITEMS],
        "content": content[:PATH_ITEMS],
    }


def digest_text(data: dict[str, Any]) -> str:
    """The digest as a few lines a person reads in a chat channel or an e-mail."""
    entered = ", ".join(_counted(count, stage) for stage, count in data["entered"].items())
    funnel_line = " -> ".join(f"{stage} {count}" for stage, count in data["funnel"].items())
    marketing = data["sla"]["marketing"]
    promised = f"{marketing['commitment']} committed" if marketing["commitment"] else (
        "no commitment")  # fmt: skip
    lines = [f"New in {data['period']}: {entered}",
             f"Marketing: {marketing['mqls']} MQLs of {promised}",
             f"Leads created in {data['period']}, how far they got: {funnel_line}"]  # fmt: skip
    for row in data["sla"]["sales"]:
        lines.append(f"Sales {row['team']}: {row['met']} met, {row['breached']} breached, "
                     f"{row['open']} open")  # fmt: skip
    for label, rows in (("Top", data["top_campaigns"]), ("Bottom", data["bottom_campaigns"])):
        if rows:
            names = ", ".join(f"{r['campaign']} ({r['revenue']:,.0f})" for r in rows)
            lines.append(f"{label} campaigns: {names}")
    reasons = [f"{r['reason']} ({r['leads']})" for r in data["recycle_reasons"]]
    if reasons:
        lines.append("Sent back: " + ", ".join(reasons))
    lost = [f"{r['reason']} ({r['deals']})" for r in data["lost_reasons"]]
    if lost:
        lines.append("Lost: " + ", ".join(lost))
    for customer in data["new_customers"]:
        via = ", ".join(customer["campaigns"]) or "-"
        who = customer["name"] or customer["email"]
        lines.append(f"Won: {who} {customer['amount'] or 0:,.0f} via {via}")
    return "\n".join(lines)


STAGE_NAMES = {"lead": ("lead", "leads"), "mql": ("MQL", "MQLs"), "sql": ("SQL", "SQLs"),
               "opportunity": ("opportunity", "opportunities"),
               "customer": ("customer", "customers")}  # fmt: skip


def _counted(count: int, stage: str) -> str:
    one, many = STAGE_NAMES.get(stage, (stage, stage))
    return f"{count} {one if count == 1 else many}"


def announce_win(session: Session, lead: Lead, now: datetime) -> str:
    """Queue the win for the `wins` channels and the webhooks that want `deal.won`."""
    path = path_of(session, lead)
    who = path["name"] or path["email"]
    via = ", ".join(path["campaigns"]) or "no campaign on record"
    seen = ", ".join(path["content"]) or "-"
    data = {
        **path,
        "title": f"Won: {who}, {path['amount'] or 0:,.0f}",
        "text": f"Closed by {path['owner'] or 'sales'}. Campaigns: {via}. Content: {seen}.",
    }
    urls = [channel.url for channel in goal_repo.channels(session, "wins")]
    return handoff.queue_to(session, "deal.won", data, urls, now)


def send_due(session: Session, playbook: Playbook, now: datetime) -> int:
    """Queue the digest for every digest channel whose time has come; how many."""
    sent = 0
    for channel in goal_repo.due_digests(session, now):
        data = build(session, playbook, None, now)
        handoff.queue_to(session, "report.digest", data, [channel.url], now)
        channel.next_run_at = next_run(channel.schedule or "mon 09:00", channel.timezone, now)
        sent += 1
    return sent


def add_channel(
    session: Session,
    purpose: str,
    url: str,
    *,
    schedule: str | None,
    zone: str,
    now: datetime,
) -> SharedChannel:
    """A shared channel for `wins` or the `digest` (with its schedule); Invalid names a bad
    purpose, URL, schedule or zone."""
    if purpose not in ("wins", "digest"):
        raise Invalid(f"purpose: {purpose!r} must be wins or digest")
    check_channel(url)
    next_at = None
    if purpose == "digest":
        try:
            next_at = next_run(schedule or "mon 09:00", zone, now)
        except ValueError as exc:
            raise Invalid(f"schedule: {exc}") from None
    elif schedule:
        raise Invalid("schedule: only a digest channel has a schedule")
    return goal_repo.add_channel(
        session, purpose=purpose, url=url, schedule=schedule or ("mon 09:00" if next_at else None),
        timezone=zone, next_run_at=next_at, created_at=now,
    )  # fmt: skip


def send_now(session: Session, playbook: Playbook, period: str | None, now: datetime) -> int:
    """Queue the digest of a period to every digest channel at once; how many channels."""
    urls = [channel.url for channel in goal_repo.channels(session, "digest")]
    if urls:
        handoff.queue_to(session, "report.digest", build(session, playbook, period, now), urls, now)
    return len(urls)
