"""The arithmetic of the reports: rates with their sample size, the funnel waterfall, deciles,
ROC-AUC. Pure: numbers in, numbers out."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from leadflow.core.stages import FUNNEL, Stage

# Below this many in the denominator a rate is shown but flagged: three leads are not a fact.
SMALL_SAMPLE = 30
# The funnel the reports count: subscribers are an audience, not yet a funnel stage.
REPORT_FUNNEL: tuple[Stage, ...] = FUNNEL[1:]


@dataclass(frozen=True, slots=True)
class Cohort:
    """Which leads a report counts: created in [since, until), optionally of one source,
    medium, campaign, persona or account tier."""

    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    persona: str | None = None
    tier: str | None = None

    @property
    def is_everyone(self) -> bool:
        """True when no filter narrows the cohort."""
        return all(getattr(self, name) is None for name in self.__slots__)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "source": self.source,
            "medium": self.medium,
            "campaign": self.campaign,
            "persona": self.persona,
            "tier": self.tier,
        }


@dataclass(frozen=True, slots=True)
class Rate:
    """`hits` of `n`; None when there is no denominator."""

    hits: int
    n: int

    @property
    def value(self) -> float | None:
        return round(self.hits / self.n, 4) if self.n else None

    @property
    def small_sample(self) -> bool:
        return self.n < SMALL_SAMPLE

    def as_dict(self) -> dict[str, object]:
        return {"rate": self.value, "n": self.n, "small_sample": self.small_sample}


def reached_counts(leads_by_max_rank: Mapping[int, int]) -> dict[Stage, int]:
    """How many leads reached each report-funnel stage or beyond, from how many leads got
    furthest to each funnel rank (a lead that skipped MQL still passed it)."""
    reached: dict[Stage, int] = {}
    running = 0
    for stage in reversed(REPORT_FUNNEL):
        running += leads_by_max_rank.get(FUNNEL.index(stage), 0)
        reached[stage] = running
    return {stage: reached[stage] for stage in REPORT_FUNNEL}


def step_rates(reached: Mapping[Stage, int]) -> dict[Stage, Rate]:
    """The share of each stage that reached the next one (the last stage has none)."""
    stages = list(reached)
    return {here: Rate(reached[after], reached[here]) for here, after in itertools.pairwise(stages)}


def decile_edges(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The nine cut points that split scores into ten groups of (nearly) equal size."""
    return np.quantile(scores, np.linspace(0.1, 0.9, 9)) if scores.size else np.zeros(9)


def decile_of(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Each score's decile, 1 (lowest) to 10 (highest)."""
    return np.searchsorted(decile_edges(scores), scores, side="right").astype(np.int64) + 1


def roc_auc(scores: npt.NDArray[np.float64], won: npt.NDArray[np.bool_]) -> float | None:
    """The chance that a random won lead outscored a random lost one (ties count half):
    the Mann-Whitney statistic. None unless there are both won and lost leads."""
    positives, negatives = int(won.sum()), int((~won).sum())
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(scores.size, dtype=np.float64)
    sorted_scores = scores[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    u = ranks[won].sum() - positives * (positives + 1) / 2.0
    return round(float(u / (positives * negatives)), 4)


def percentiles(values: Sequence[float] | npt.NDArray[np.float64]) -> dict[str, float | None]:
    """Median and 90th percentile (None for no values)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return {"p50": None, "p90": None}
    p50, p90 = np.percentile(array, [50, 90])
    return {"p50": round(float(p50), 2), "p90": round(float(p90), 2)}
