"""Revenue attribution, score calibration, and the content that converts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core.attribution import DEFAULT_HALF_LIFE_DAYS, MODELS
from leadflow.core.attribution_credit import MICROS, credit, won_paths
from leadflow.core.errors import Invalid
from leadflow.core.report_math import SMALL_SAMPLE, Cohort, Rate, decile_of, roc_auc
from leadflow.repositories import attribution as attribution_reads
from leadflow.repositories import closed_content, won_credit, won_touches
from leadflow.repositories import reports as queries
from leadflow.services.reports.base import share, table


def attribution(
    session: Session, cohort: Cohort, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    models: Sequence[str] = MODELS,
) -> dict[str, Any]:  # fmt: skip
    """Won revenue credited to campaigns by six models (`core.attribution`), or by the ones
    named. At the default half-life the credit kept per won lead is added up in SQL
    (`won_credit`); another half-life weighs every touch now, the same way."""
    if not half_life_days > 0:
        raise Invalid(f"half_life_days: {half_life_days} must be more than 0 days")
    wanted = tuple(model for model in MODELS if model in models)
    if half_life_days == DEFAULT_HALF_LIFE_DAYS:
        credits = won_credit.by_campaign(session, cohort, wanted)
    else:
        credits = _weighed(session, cohort, wanted, half_life_days)
    rows_out: list[dict[str, Any]] = [
        {"campaign": c.campaign, **{m: round(c.micros[m] / MICROS, 2) for m in wanted},
         "won_leads": c.won_leads}
        for c in credits
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
        cohort, ["campaign", *wanted, "won_leads"], rows_out, half_life_days=half_life_days,
    )  # fmt: skip


def _weighed(
    session: Session, cohort: Cohort, models: tuple[str, ...], half_life_days: float
) -> list[won_credit.CampaignCredit]:
    """Each campaign's credit from every won cohort lead's touches, weighed now."""
    won = attribution_reads.won_leads(session, attribution_reads.of_cohort_won(cohort))
    touches = won_touches.event_touches(session, cohort)
    paths, campaigns = won_paths(
        won.ids.tolist(), won.created, won.opportunity, won.won, won.amounts, won.campaigns,
        (touches.lead_ids, touches.campaigns, touches.times),
    )  # fmt: skip
    found = credit(paths, models, half_life_days)
    leads = np.bincount(found.codes, minlength=len(campaigns)).tolist()
    sums = {}
    for model in models:
        total = np.zeros(len(campaigns), dtype=np.int64)
        np.add.at(total, found.codes, found.micros[model])  # integers: exact in any order
        sums[model] = total.tolist()
    return [
        won_credit.CampaignCredit(name, {m: sums[m][k] for m in models}, leads[k])
        for k, name in enumerate(campaigns)
    ]


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
    for kind, item, outcome, leads in closed_content.content_by_outcome(session, cohort):
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
