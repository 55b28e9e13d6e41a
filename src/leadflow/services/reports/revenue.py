"""Revenue attribution, score calibration, and the content that converts."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy.orm import Session

from leadflow.core.report_math import SMALL_SAMPLE, Cohort, Rate, decile_of, roc_auc
from leadflow.repositories import reports as queries
from leadflow.services.reports.base import share, table


def attribution(session: Session, cohort: Cohort) -> dict[str, Any]:
    """Won revenue credited to campaigns: first touch, last touch and linear."""
    rows: list[dict[str, Any]] = [
        {"campaign": campaign, "first_touch": round(first, 2), "last_touch": round(last, 2),
         "linear": round(linear, 2), "won_leads": leads}
        for campaign, first, last, linear, leads in queries.attribution(session, cohort)
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r["linear"], str(r["campaign"])))
    return table(
        "attribution", "Revenue attribution over campaigns",
        "Won cohort leads. Their touches: the campaign they were acquired by (at creation) "
        "and every event naming a campaign (context.campaign.name, or a utm_campaign or "
        "campaign property) up to the win. First touch gives the whole amount to the earliest "
        "touch, last touch to the latest, linear splits it evenly over all touches; each "
        "column adds up to the revenue of won leads that had at least one touch.",
        cohort, ["campaign", "first_touch", "last_touch", "linear", "won_leads"], rows,
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
