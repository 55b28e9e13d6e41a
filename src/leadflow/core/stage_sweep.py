"""Which leads a bulk stage pass must ask: found column-wise.

After a re-score, an import or a playbook change every open lead is a candidate for an
automatic move, and asking `automatic_transition` lead by lead cost about 40 us each (1.5 s at
50,000 leads). When the stage criteria read only the stored score and the e-mail
(`criteria_need_facts` is false, as in the example playbooks), each criterion's leaves are
tested once per distinct value of the field each reads (`FactTable.holds`). A lead moved by
a criterion alone gets its move column-wise, the one `automatic_transition` gives (the
same criteria in the same order, the same `lifecycle.entered`); only the leads whose move
needs more (a hand-raiser event, a recycled lead's waiting time, an MQL that may fall back)
are asked one by one. `tests/core/test_stage_sweep.py` holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from leadflow.core.bulk_columns import BoolArray, Column, FactTable
from leadflow.core.lifecycle import MANUAL_ONLY, criteria, effective_rank
from leadflow.core.playbook import Playbook
from leadflow.core.stages import Stage, funnel_rank


@dataclass(frozen=True)
class Sweep:
    """A bulk stage pass's leads, column-wise: `ask` where only `automatic_transition` can
    tell (a hand-raiser event, a recycled lead's waiting time, an MQL that may fall back),
    and for every other lead the stage its criteria move it to (`target`, None: it stays),
    exactly as `automatic_transition` would, with `criterion` the index in `criteria` of
    the criterion that moves it (-1: none)."""

    ask: BoolArray
    target: NDArray[np.object_]
    criterion: NDArray[np.int64]

    def moves(self) -> BoolArray:
        """Where a lead may move: asked, or moved column-wise."""
        return self.ask | (self.criterion >= 0)


def sweep(
    playbook: Playbook,
    stages: Sequence[str],
    facts: Mapping[str, Column],
    raised: BoolArray,
) -> Sweep:
    """The stage pass over leads in `stages` whose stage facts (score fields, e-mail,
    probability: every path of `lifecycle.criteria_fields`) are `facts`, as columns;
    `raised`: the leads with a hand-raiser event since their last stage change."""
    size = len(stages)
    ranks = {s: _rank(s) for s in set(stages)}
    rank = np.fromiter((ranks[s] for s in stages), np.int64, size)
    movable = rank >= 0
    ask = raised.copy()
    if playbook.lifecycle.on_decay == "fall_back":
        ask |= np.fromiter((s == Stage.MQL.value for s in stages), bool, size)
    ask &= movable
    table = FactTable(facts, size)
    target = np.full(size, None, object)
    criterion = np.full(size, -1, np.int64)
    open_ = movable & ~ask
    for k, (stage, condition) in enumerate(criteria(playbook)):  # highest first, as it tries
        hit = open_ & (funnel_rank(stage) > rank)
        if hit.any():
            hit &= table.holds(condition)
            target[hit] = stage.value
            criterion[hit] = k
            open_ &= ~hit
    # A recycled lead a criterion qualifies may still be waiting (`recycle_until`): asked.
    waiting = (criterion >= 0) & np.fromiter((s == Stage.NURTURE.value for s in stages), bool, size)
    ask |= waiting
    target[waiting] = None
    criterion[waiting] = -1
    return Sweep(ask, target, criterion)


def _rank(stage: str) -> int:
    """The rank a criterion must beat; -1 for a stage only a person moves a lead out of."""
    current = Stage(stage)
    return -1 if current in MANUAL_ONLY else effective_rank(current)
