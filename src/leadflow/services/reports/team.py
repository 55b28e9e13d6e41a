"""Speed to lead and both SLAs, lead-quality feedback, and leads fallen through the cracks."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort, Rate, percentiles
from leadflow.repositories import reports as queries
from leadflow.services.reports.base import share, table

# Minutes from the hand-off to the first touch, as the speed-to-lead distribution buckets them.
BUCKETS = ((5, "under 5 min"), (30, "5-30 min"), (240, "30 min-4 h"), (1440, "4-24 h"))


def speed_to_lead(
    session: Session, playbook: Playbook, cohort: Cohort, start: datetime, end: datetime
) -> dict[str, Any]:
    """Time from sales-ready to first touch, SLA compliance per rep and team, and marketing's
    MQLs against the commitment over [start, end)."""
    handoffs = queries.handoffs(session, cohort)
    rows = _compliance(handoffs, lambda rep, team: f"{rep or '(queue)'}", "rep")
    teams = _compliance(handoffs, lambda rep, team: team, "team")
    minutes = [m for *_, m in handoffs if m is not None]
    counts = Counter(_bucket(m) for m in minutes)
    distribution = [{"bucket": label, "handoffs": counts[label]} for _, label in BUCKETS]
    distribution.append({"bucket": "over 24 h", "handoffs": counts["over 24 h"]})
    distribution.append({"bucket": "not touched", "handoffs": len(handoffs) - len(minutes)})
    months = (end.year - start.year) * 12 + end.month - start.month
    promised = playbook.sla.mql_commitment_per_month
    mqls = queries.entries(session, "mql", start, end)
    marketing = {
        "start": start.isoformat(), "end": end.isoformat(), "mqls": mqls,
        "commitment": promised * months if promised else None,
        "share_of_commitment": share(mqls, promised * months) if promised else None,
    }  # fmt: skip
    columns = ["rep", "handoffs", "met", "breached", "open", "compliance", "small_sample",
               "p50_minutes", "p90_minutes"]  # fmt: skip
    return table(
        "speed", "Speed to lead and the SLA, both sides",
        "Hand-offs of cohort leads. compliance = met / (met + breached); open hand-offs are "
        "not yet judged. Minutes run from the hand-off to the first sales action. Marketing: "
        "moves into MQL in the period against the monthly commitment times its months.",
        cohort, columns, rows, teams=teams, distribution=distribution,
        overall=percentiles(np.asarray(minutes)), marketing=marketing,
    )  # fmt: skip


def _bucket(minutes: float) -> str:
    return next((label for limit, label in BUCKETS if minutes < limit), "over 24 h")


def _compliance(
    handoffs: list[tuple[str | None, str, str, float | None]], key: Any, name: str
) -> list[dict[str, Any]]:
    groups: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
    for rep, team, status, minutes in handoffs:
        groups[key(rep, team)].append((status, minutes))
    rows = []
    for group, items in sorted(groups.items()):
        tally: Counter[str] = Counter(s for s, _ in items)
        judged = Rate(tally["met"], tally["met"] + tally["breached"])
        rows.append({
            name: group, "handoffs": len(items), "met": tally["met"],
            "breached": tally["breached"], "open": tally["open"],
            "compliance": judged.value, "small_sample": judged.small_sample,
            **{f"{k}_minutes": v for k, v in
               percentiles(np.asarray([m for _, m in items if m is not None])).items()},
        })  # fmt: skip
    return rows


def lead_quality(session: Session, cohort: Cohort) -> dict[str, Any]:
    """Why sales sent leads back (recycle) or out (disqualify), by source and campaign, and
    why deals were lost."""
    rows: list[dict[str, Any]] = [
        {"action": "recycled" if stage == "nurture" else "disqualified", "reason": reason,
         "source": source, "campaign": campaign, "leads": count}
        for stage, reason, source, campaign, count in queries.exit_reasons(session, cohort)
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r["leads"], r["action"], str(r["reason"])))
    lost: list[dict[str, Any]] = [
        {"reason": r, "deals": n} for r, n in queries.lost_reasons(session, cohort)
    ]
    lost.sort(key=lambda r: (-r["deals"], str(r["reason"])))
    return table(
        "quality", "Lead quality feedback: recycle and disqualify reasons",
        "Moves of cohort leads into nurture or disqualified made by a person (not the "
        "system), by the reason they gave and the lead's source and campaign.",
        cohort, ["action", "reason", "source", "campaign", "leads"], rows, lost_reasons=lost,
    )  # fmt: skip


def fallen_through(
    session: Session, playbook: Playbook, cohort: Cohort, now: datetime
) -> dict[str, Any]:
    """Sales-ready leads nobody owns, or whose hand-off deadline passed untouched."""
    stages = [stage.value for stage in playbook.lifecycle.sales_ready]
    rows = []
    for lead_id, email, stage, owner, since, team, due in queries.fallen_through(
        session, cohort, stages, now
    ):
        late = round((now - due).total_seconds() / 60, 1) if due and due < now else None
        rows.append({
            "lead_id": lead_id, "email": email, "stage": stage, "owner": owner,
            "team": team, "since": since.isoformat() if since else None,
            "sla_due_at": due.isoformat() if due else None, "minutes_late": late,
            "problem": "no owner" if owner is None else "no touch past the SLA",
        })  # fmt: skip
    return table(
        "cracks", "Fallen through the cracks",
        f"Cohort leads in a sales-ready stage ({', '.join(stages)}) with no owner, or whose "
        "latest hand-off passed its SLA deadline with no touch.",
        cohort, ["lead_id", "email", "stage", "owner", "team", "sla_due_at", "minutes_late",
                 "problem"], rows,
    )  # fmt: skip
