"""Each won lead's credit per campaign under every attribution model, as whole millionths of
the deal's currency (pure).

The report adds these up per campaign. They are integers so that every sum is exact in any
order: the figures are the same whether the report adds the rows kept per lead
(`won_credit`, summed in SQL) or the ones computed on the spot (another half-life, the
tests' definition), and whichever order the database reads them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from leadflow.core.attribution import Paths, weights_of

# Credit in millionths of a currency unit: a deal of 10**12 still fits an int64 many times
# over, and a lead's credits, rounded each, add up to its amount within a few millionths.
MICROS = 1_000_000
# A won lead without a closing time (raw imports) is taken as won at its last touch.
NO_CLOSE = np.iinfo(np.int64).min

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WonPaths:
    """Won leads (one entry each: creation, opportunity and win moments in microseconds,
    amount) and their touches (one entry each: the lead's index, the time, the campaign's
    code), in any order."""

    created: Ints
    opportunity: Ints
    won: Ints  # NO_CLOSE: no closing time stored
    amounts: Floats
    touch_leads: Ints
    touch_times: Ints
    touch_codes: Ints


def won_paths(
    leads: Sequence[int], created: Ints, opportunity: Ints, won: Ints, amounts: Floats,
    acquired_by: Sequence[str | None], touches: tuple[Ints, Sequence[str], Ints],
) -> tuple[WonPaths, list[str]]:  # fmt: skip
    """Won leads (sorted ids, each with its moments, amount and the campaign it was acquired
    by at creation, its first touch; None: none) and their touches from events (lead ids,
    campaigns, times) as `WonPaths`, with the campaigns coded in name order. Touches of a
    lead not among these (won after the leads were read) are left out."""
    ids = np.asarray(leads, dtype=np.int64)
    touch_ids, touch_campaigns, touch_times = touches
    row = np.searchsorted(ids, touch_ids)
    kept = np.r_[ids, -1][row] == touch_ids
    acquired = np.flatnonzero(np.array([c is not None for c in acquired_by], dtype=np.bool_))
    chosen = np.r_[np.ones(acquired.size, dtype=np.bool_), kept]
    names = [acquired_by[k] or "" for k in acquired.tolist()] + list(touch_campaigns)
    campaigns = sorted(set(names))
    rank = {name: k for k, name in enumerate(campaigns)}
    codes = np.fromiter((rank[c] for c in names), np.int64, len(names))[chosen]
    rows = np.r_[acquired, row].astype(np.int64)[chosen]
    times = np.r_[created[acquired], touch_times].astype(np.int64)[chosen]
    # Only the campaigns of the touches kept, renumbered in name order (counted, not sorted).
    present = np.bincount(codes, minlength=len(campaigns)) > 0
    codes = (np.cumsum(present) - 1)[codes].astype(np.int64)
    campaigns = [campaigns[k] for k in np.flatnonzero(present).tolist()]
    paths = WonPaths(created, opportunity, won, amounts, rows, times, codes)
    return paths, campaigns


@dataclass(frozen=True, slots=True)
class Credit:
    """One entry per distinct (lead, campaign) pair, sorted by lead then campaign code:
    each model's credit in millionths."""

    leads: Ints
    codes: Ints
    micros: dict[str, Ints]


def credit(won: WonPaths, models: Sequence[str], half_life_days: float) -> Credit:
    """Each won lead's credit per campaign it touched, under each of `models`."""
    paths, leads, codes = _in_path_order(won)
    amounts = won.amounts[leads]
    # Each pair's touches next to each other, in path order within the pair (a stable sort).
    by_pair = np.lexsort((codes, leads))
    leads, codes = leads[by_pair], codes[by_pair]
    firsts = np.r_[True, (leads[1:] != leads[:-1]) | (codes[1:] != codes[:-1])]
    starts = np.flatnonzero(firsts) if leads.size else leads[:0]
    micros = {}
    for model in models:
        shares = (weights_of(paths, model, half_life_days) * amounts)[by_pair]
        summed = np.add.reduceat(shares, starts) if starts.size else shares[:0]
        micros[model] = np.rint(summed * MICROS).astype(np.int64)
    return Credit(leads[starts], codes[starts], micros)


def _in_path_order(won: WonPaths) -> tuple[Paths, Ints, Ints]:
    """The touches sorted by lead, then time, then campaign code (a lead's touches at one
    moment in campaign order), as `core.attribution` paths; with each touch's lead and code."""
    order = np.lexsort((won.touch_codes, won.touch_times, won.touch_leads))
    leads, times, codes = won.touch_leads[order], won.touch_times[order], won.touch_codes[order]
    firsts = np.flatnonzero(np.r_[True, leads[1:] != leads[:-1]]) if leads.size else leads[:0]
    lengths = np.diff(np.r_[firsts, leads.size]).astype(np.int64)
    owners = leads[firsts]
    last_touch = times[firsts + lengths - 1]
    won_at = np.where(won.won[owners] == NO_CLOSE, last_touch, won.won[owners])
    paths = Paths(lengths, times, won.created[owners], won.opportunity[owners], won_at)
    return paths, leads, codes
