"""Revenue attribution, score calibration, and the content that converts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.attribution import BY_POSITION, MODELS, Path, by_position, weights
from leadflow.core.errors import Invalid
from leadflow.core.report_math import SMALL_SAMPLE, Cohort, Rate, decile_of, roc_auc
from leadflow.repositories import reports as queries
from leadflow.services.reports.base import share, table


def attribution(
    session: Session, cohort: Cohort, half_life_days: float = 7.0,
    models: Sequence[str] = MODELS,
) -> dict[str, Any]:  # fmt: skip
    """Won revenue credited to campaigns by six models (`core.attribution`), or by the ones
    named (a page charting one asks for it alone: the others read every touch's time)."""
    if not half_life_days > 0:
        raise Invalid(f"half_life_days: {half_life_days} must be more than 0 days")
    moments = not set(models) <= set(BY_POSITION)
    credit: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(models, 0.0))
    leads: dict[str, set[int]] = defaultdict(set)
    paths = queries.attribution_paths(session, cohort, moments=moments)
    for lead_id, touches in groupby(paths, key=itemgetter(0)):
        rows = list(touches)
        campaigns, amount = [r[1] for r in rows], float(rows[0][2])
        if moments:
            _, _, _, _, created, won_at, opportunity_at = rows[0]
            path = Path(campaigns, [r[3] for r in rows], created, opportunity_at, won_at)
        for model in models:
            shares = (weights(path, model, half_life_days) if moments
                      else by_position(len(campaigns), model))  # fmt: skip
            for campaign, weight in zip(campaigns, shares, strict=True):
                credit[campaign][model] += weight * amount
        for campaign in campaigns:
            leads[campaign].add(lead_id)
    rows_out: list[dict[str, Any]] = [
        {"campaign": campaign, **{m: round(v, 2) for m, v in shares.items()},
         "won_leads": len(leads[campaign])}
        for campaign, shares in credit.items()
    ]  # fmt: skip
    rows_out.sort(key=lambda r: (-r.get("linear", 0.0), str(r["campaign"])))
    return table(
        "attribution", "Revenue attribution over campaigns",
        "Won cohort leads. Their touches: the campaign they were acquired by (at creation) "
        "and every event naming a campaign (context.campaign.name, or a utm_campaign or "
        "campaign property) up to the win. First touch gives the whole amount to the earliest "
        "touch, last touch to the latest, linear splits it evenly; u_shaped gives 40% each to "
        "the first and last touch and spreads 20% over the rest; w_shaped gives 30% each to "
        "the first touch, the touch that made the lead and the one that made the opportunity "
        "and spreads 10% over the rest; time_decay halves a touch's weight every "
        f"{half_life_days:g} days before the win. Each column adds up to the revenue of won "
        "leads that had at least one touch.",
        cohort, ["campaign", *models, "won_leads"], rows_out, half_life_days=half_life_days,
    )  # fmt: skip


def calibration(session: Session, cohort: Cohort) -> dict[str, Any]:
    """Win rate by score decile on closed leads, and the score's ROC-AUC."""
    scores, won = queries.closed_scores(session, cohort)
    deciles = decile_of(scores)
    rows = []
    for decile in range(1, 11):
        members = deciles == decile
        if not members.any():
            continue
        rate = Rate(int(won[members].sum()), int(members.sum()))
        rows.append({
            "decile": decile, "min_score": round(float(scores[members].min()), 2),
            "max_score": round(float(scores[members].max()), 2), "closed": rate.n,
            "won": rate.hits, "win_rate": rate.value, "small_sample": rate.small_sample,
        })  # fmt: skip
    auc = roc_auc(scores, won)
    return table(
        "calibration", "Score calibration on closed leads",
        "Closed (won or lost) cohort leads, by decile of their current total score (1 = "
        "lowest). win_rate = won / closed in the decile. roc_auc: the chance a won lead "
        "outscores a lost one (0.5 = no better than chance, 1 = perfect).",
        cohort, ["decile", "min_score", "max_score", "closed", "won", "win_rate",
                 "small_sample"], rows,
        roc_auc=auc, closed=int(scores.size), won=int(won.sum()),
        small_sample=bool(min(int(won.sum()), int((~won).sum())) < SMALL_SAMPLE),
    )  # fmt: skip


def content(session: Session, cohort: Cohort) -> dict[str, Any]:
    """What won leads consumed before they closed, against lost ones; and the questions and
    objections sales logged, by frequency and stage."""
    closed = queries.closed_counts(session, cohort)
    won_total, lost_total = closed.get("won", 0), closed.get("lost", 0)
    consumed: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"won": 0, "lost": 0})
    for kind, item, outcome, leads in queries.content_by_outcome(session, cohort):
        consumed[(kind, item)][outcome] = leads
    rows: list[dict[str, Any]] = []
    for (kind, item), counts in consumed.items():
        won_share, lost_share = share(counts["won"], won_total), share(counts["lost"], lost_total)
        lift = round(won_share / lost_share, 2) if won_share and lost_share else None
        rows.append({
            "kind": kind, "item": item, "won_leads": counts["won"], "won_share": won_share,
            "lost_leads": counts["lost"], "lost_share": lost_share, "lift": lift,
        })  # fmt: skip
    rows.sort(key=lambda r: (-(r["won_share"] or 0.0), str(r["item"])))
    return table(
        "content", "Content that converts",
        "Closed cohort leads. won_share = won leads that consumed the item before closing / "
        "all won leads (lost_share likewise); lift = won_share / lost_share (above 1: more "
        "common on the path to a win). Pages by path, other events by name; sales' own "
        "touches and notes are left out.",
        cohort, ["kind", "item", "won_leads", "won_share", "lost_leads", "lost_share", "lift"],
        rows, won=won_total, lost=lost_total, feedback=_feedback(session, cohort),
    )  # fmt: skip


def _feedback(session: Session, cohort: Cohort) -> list[dict[str, Any]]:
    """Questions and objections from sales touches, counted by text and the lead's stage."""
    tally: Counter[tuple[str, str, str]] = Counter()
    for properties, stage in queries.touch_feedback(session, cohort):
        at = str(properties.get("stage") or stage)
        for kind in ("questions", "objections"):
            for text in properties.get(kind) or []:
                tally[(kind[:-1], str(text).strip().lower(), at)] += 1
    return [
        {"kind": kind, "text": text, "stage": stage, "times": times}
        for (kind, text, stage), times in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
