"""Calibration of predicted probabilities: by tenths of the probability, the gap between what
was predicted and what happened, and whether that gap is more than chance. Pure.

One binning for both sides of the comparison: the model's validation (`services/model.py`)
and the outcomes recorded since it was trained (`services/reports/drift.py`), so a decile
means the same range of probability in both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Decile k (1 to 10) holds probabilities in [(k-1)/10, k/10); the last one holds 1.0 too.
EDGES = np.array([k / 10 for k in range(1, 10)])
# Below this many outcomes a calibration is not judged (`core.report_math.SMALL_SAMPLE`).
MIN_OUTCOMES = 30
# A gap counts as drift when it is this large (in probability) and this unlikely by chance
# (in standard errors, if the predictions were right): both, so that neither a tiny but
# certain gap on many leads nor a large gap on a handful is called drift.
OVERALL_GAP, OVERALL_Z = 0.05, 2.0
DECILE_GAP, DECILE_Z, DECILE_LEADS = 0.10, 3.0, 10
# Two bases (log-odds) this close are one model's (a base goes through JSON and the database).
SAME_BASE = 1e-9


def decile_of(p: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Each probability's decile, 1 to 10, as `p >= (k-1)/10 and p < k/10` decides it."""
    return np.searchsorted(EDGES, p, side="right").astype(np.int64) + 1


def decile_label(decile: int) -> str:
    """`60-70%` for decile 7."""
    return f"{(decile - 1) * 10}-{decile * 10}%"


@dataclass(frozen=True, slots=True)
class Bin:
    """One decile: how many leads, how many won, the mean predicted and the sum of p(1-p)
    (the variance of the number won, were the predictions right)."""

    decile: int
    leads: int
    won: float
    predicted: float
    variance: float

    @property
    def actual(self) -> float:
        return self.won / self.leads

    @property
    def gap(self) -> float:
        """Predicted minus actual: above 0, the model promised more than happened."""
        return self.predicted - self.actual

    @property
    def z(self) -> float | None:
        """The gap in standard errors of the number won (None when there is no spread)."""
        if self.variance <= 0:
            return None
        return (self.predicted - self.actual) * self.leads / math.sqrt(self.variance)


def bins(p: npt.NDArray[np.float64], won: npt.NDArray[np.bool_]) -> list[Bin]:
    """The non-empty deciles of these predictions and outcomes, lowest first."""
    deciles = decile_of(p)
    found = []
    for decile in range(1, 11):
        inside = deciles == decile
        if inside.any():
            q = p[inside]
            found.append(Bin(decile, int(inside.sum()), float(won[inside].sum()),
                             float(q.mean()), float((q * (1 - q)).sum())))  # fmt: skip
    return found


def overall(found: Sequence[Bin]) -> Bin | None:
    """All deciles as one (decile 0); None for none."""
    leads = sum(b.leads for b in found)
    if not leads:
        return None
    predicted = math.fsum(b.predicted * b.leads for b in found) / leads
    won, variance = math.fsum(b.won for b in found), math.fsum(b.variance for b in found)
    return Bin(0, leads, won, predicted, variance)


def expected_calibration_error(found: Sequence[Bin]) -> float | None:
    """The leads-weighted mean of |predicted - actual| over the deciles (None for none)."""
    leads = sum(b.leads for b in found)
    if not leads:
        return None
    return math.fsum(abs(b.gap) * b.leads for b in found) / leads


def stored_bins(rows: Sequence[Mapping[str, Any]]) -> list[Bin]:
    """A model's validation calibration as stored (`predicted`, `observed`, `n`, and since
    this module `decile`; older models' rows are placed by their mean predicted). The
    variance is not stored: validation bins are shown, never tested."""
    found = []
    for row in rows:
        n, predicted = int(row["n"]), float(row["predicted"])
        decile = int(row.get("decile") or decile_of(np.array([predicted]))[0])
        found.append(Bin(decile, n, float(row["observed"]) * n, predicted, 0.0))
    return found


def from_model(base: Sequence[float | None], model_base: float) -> npt.NDArray[np.bool_]:
    """Which stored predictions this model made: their base log-odds is its own. A lead
    keeps the probability it had when its outcome was recorded, which an earlier model may
    have made, or none that recorded its base."""
    stored = np.array([math.nan if b is None else b for b in base], dtype=np.float64)
    return np.abs(stored - model_base) <= SAME_BASE


@dataclass(frozen=True, slots=True)
class Verdict:
    """`calibrated`, `drifted` or `too_few`, said in a sentence."""

    status: str
    text: str


def _points(gap: float) -> str:
    """The gap in points as the report shows it (4 places), so a gap of exactly half a point
    reads the same whichever side of it a fitted model's last bits fall."""
    shown = round(gap, 4)
    return f"{abs(round(shown * 100)):g} points {'high' if gap > 0 else 'low'}"


def _percent(value: float) -> str:
    return f"{round(value * 100):g}%"


def verdict(found: Sequence[Bin], since: str) -> Verdict:
    """Whether the predictions still match the outcomes since `since` (a date), and if not,
    where they are off: overall first, then the decile that is off the most."""
    total = overall(found)
    if total is None or total.leads < MIN_OUTCOMES:
        leads = total.leads if total else 0
        return Verdict("too_few", f"{leads} outcome{'s' if leads != 1 else ''} since {since} "
                       f"with this model's prediction: at least {MIN_OUTCOMES} are needed to "
                       "judge its calibration.")  # fmt: skip
    numbers = (f"predicted {_percent(total.predicted)} on average, {_percent(total.actual)} "
               f"won ({total.leads:,} leads)")  # fmt: skip
    z = total.z
    if abs(total.gap) >= OVERALL_GAP and z is not None and abs(z) >= OVERALL_Z:
        return Verdict("drifted", f"Predictions run {_points(total.gap)} since {since}: "
                       f"{numbers}. Retrain: leadflow model train.")  # fmt: skip
    off = [b for b in found if b.leads >= DECILE_LEADS and abs(b.gap) >= DECILE_GAP
           and b.z is not None and abs(b.z) >= DECILE_Z]  # fmt: skip
    if off:
        worst = max(off, key=lambda b: abs(b.z or 0.0))
        return Verdict("drifted", f"Predictions of {decile_label(worst.decile)} run "
                       f"{_points(worst.gap)} since {since}: {_percent(worst.actual)} of "
                       f"{worst.leads:,} leads won. Retrain: leadflow model train.")  # fmt: skip
    return Verdict("calibrated", f"Predictions still match outcomes since {since}: {numbers}.")
