"""Revenue attribution, score calibration, and the content that converts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from leadflow.core.attribution import BY_POSITION, MODELS, Paths, weights_of
from leadflow.core.errors import Invalid
from leadflow.core.report_math import SMALL_SAMPLE, Cohort, Rate, decile_of, roc_auc
from leadflow.repositories import attribution as attribution_reads
from leadflow.repositories import closed_content, won_touches
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
    paths = _paths(session, cohort, moments=moments)
    credit = {
        model: np.bincount(paths.codes, weights_of(paths.paths, model, half_life_days)
                           * paths.amounts, minlength=len(paths.campaigns))
        for model in models
    }  # fmt: skip
    rows_out: list[dict[str, Any]] = [
        {"campaign": campaign, **{m: round(float(credit[m][k]), 2) for m in models},
         "won_leads": int(paths.won_leads[k])}
        for k, campaign in enumerate(paths.campaigns)
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


@dataclass(frozen=True, slots=True)
class _Sorted:
    """The won leads' touches in path order (by lead, then time, then campaign name)."""

    paths: Paths
    codes: npt.NDArray[np.int64]  # each touch's campaign, an index into `campaigns`
    amounts: npt.NDArray[np.float64]  # each touch's lead's won amount
    campaigns: list[str]
    won_leads: npt.NDArray[np.int64]  # per campaign: distinct leads it touched


def _paths(session: Session, cohort: Cohort, *, moments: bool) -> _Sorted:
    """Read the won leads and their touches, and lay them out as `core` paths."""
    won = attribution_reads.won_leads(session, cohort, moments=moments)
    events = won_touches.event_touches(session, cohort)
    row = np.searchsorted(won.ids, events.lead_ids)
    # Touches of a lead that was not yet won when the leads were read (two reads) wait.
    kept = np.r_[won.ids, -1][row] == events.lead_ids
    acquired = np.flatnonzero(np.array([c is not None for c in won.campaigns], dtype=np.bool_))
    names = [won.campaigns[k] or "" for k in acquired.tolist()] + events.campaigns
    campaigns = sorted(set(names))
    rank = {name: k for k, name in enumerate(campaigns)}
    codes = np.fromiter((rank[c] for c in names), np.int64, len(names))
    rows = np.r_[acquired, row].astype(np.int64)
    times = np.r_[won.created[acquired], events.times]
    chosen = np.r_[np.ones(acquired.size, dtype=np.bool_), kept]
    rows, times, codes = rows[chosen], times[chosen], codes[chosen]
    # The campaigns of the touches kept, renumbered in name order (counted, not sorted).
    present = np.bincount(codes, minlength=len(campaigns)) > 0
    renumbered = np.cumsum(present) - 1
    campaigns = [campaigns[k] for k in np.flatnonzero(present).tolist()]
    codes = renumbered[codes].astype(np.int64)
    order = np.lexsort((codes, times, rows))  # by lead, then time, then campaign name
    rows, times, codes = rows[order], times[order], codes[order]
    firsts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if rows.size else rows[:0]
    lengths = np.diff(np.r_[firsts, rows.size]).astype(np.int64)
    leads = rows[firsts]
    last_touch = times[firsts + lengths - 1]
    won_at = np.where(won.won[leads] == attribution_reads.NO_CLOSE, last_touch, won.won[leads])
    paths = Paths(lengths, times, won.created[leads], won.opportunity[leads], won_at)
    return _Sorted(
        paths, codes, won.amounts[rows], campaigns, _leads_reached(rows, codes, len(campaigns))
    )


REACHED_TABLE = 50_000_000  # cells (bytes) of `_leads_reached`'s table at most


def _leads_reached(
    rows: npt.NDArray[np.int64], codes: npt.NDArray[np.int64], campaigns: int
) -> npt.NDArray[np.int64]:
    """How many distinct leads each campaign touched: a lead x campaign table of who touched
    what when it is small (it is at a million leads: tens of thousands of won leads, dozens
    of campaigns), else the distinct pairs sorted."""
    leads = int(rows.max()) + 1 if rows.size else 0
    if leads * campaigns <= REACHED_TABLE:
        touched = np.zeros((leads, campaigns), dtype=np.bool_)
        touched[rows, codes] = True
        return np.asarray(touched.sum(axis=0), dtype=np.int64)
    pairs = np.unique(rows * campaigns + codes)
    return np.bincount(pairs % max(campaigns, 1), minlength=campaigns)


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
