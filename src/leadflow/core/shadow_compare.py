"""Two playbooks compared on the same leads: MQL volume, conversions, ranking, disagreements.

Pure arithmetic over columns (one entry per lead both scored): the live shadow
(`services.shadow.compare`) and the backtest on history (`services.shadow.backtest`) both
end here, so their figures mean the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from leadflow.core.report_math import roc_auc

DISAGREEMENTS_SHOWN = 50


@dataclass(frozen=True)
class Side:
    """One playbook's verdict on each lead: its total and whether it made the lead an MQL."""

    totals: npt.NDArray[np.float64]
    mql: npt.NDArray[np.bool_]


def outcome_codes(outcomes: list[str | None]) -> npt.NDArray[np.int8]:
    """won -> 1, lost -> 0, open -> -1."""
    codes = {"won": 1, "lost": 0}
    return np.array([codes.get(o or "", -1) for o in outcomes], dtype=np.int8)


def _side_figures(side: Side, outcome: npt.NDArray[np.int8]) -> dict[str, Any]:
    closed = outcome >= 0
    won = outcome == 1
    mqls_closed = int((side.mql & closed).sum())
    mqls_won = int((side.mql & won).sum())
    return {
        "mqls": int(side.mql.sum()),
        "mqls_closed": mqls_closed,
        "mqls_won": mqls_won,
        "mql_win_rate": round(mqls_won / mqls_closed, 4) if mqls_closed else None,
        "auc": roc_auc(side.totals[closed], won[closed]),
    }


def compare(
    lead_ids: npt.NDArray[np.int64],
    outcome: npt.NDArray[np.int8],
    active: Side,
    candidate: Side,
    *,
    shown: int = DISAGREEMENTS_SHOWN,
) -> dict[str, Any]:
    """The figures of both sides on these leads, and the leads they disagree on (those whose
    totals differ most first, at most `shown`)."""
    closed = outcome >= 0
    differ = active.mql != candidate.mql
    gap = np.abs(candidate.totals - active.totals)
    order = np.lexsort((lead_ids, -gap))  # the biggest gap first, then by lead id
    picked = [int(i) for i in order if differ[i]][:shown]
    names = {1: "won", 0: "lost", -1: None}
    return {
        "leads": int(lead_ids.size),
        "closed": int(closed.sum()),
        "won": int((outcome == 1).sum()),
        "active": _side_figures(active, outcome),
        "candidate": _side_figures(candidate, outcome),
        "disagree": {
            "active_only": int((active.mql & ~candidate.mql).sum()),
            "candidate_only": int((candidate.mql & ~active.mql).sum()),
            "leads": [
                {
                    "lead_id": int(lead_ids[i]),
                    "active_total": round(float(active.totals[i]), 2),
                    "candidate_total": round(float(candidate.totals[i]), 2),
                    "active_mql": bool(active.mql[i]),
                    "candidate_mql": bool(candidate.mql[i]),
                    "outcome": names[int(outcome[i])],
                }
                for i in picked
            ],
        },
    }
