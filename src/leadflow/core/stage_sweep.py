"""Which leads a bulk stage pass must ask: found column-wise.

After a re-score, an import or a playbook change every open lead is a candidate for an
automatic move, and asking `automatic_transition` lead by lead cost about 40 us each (1.5 s at
50,000 leads). When the stage criteria read only the stored score and the e-mail
(`criteria_need_facts` is false, as in the example playbooks), each criterion's leaves are
tested once per distinct value of the field each reads (`FactTable.holds`), and only the
leads that may move (a hand-raiser event, a criterion above their stage that holds, an MQL
that may fall back) are then asked exactly. A superset: the exact answer stays the per-lead
one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from leadflow.core.bulk_columns import BoolArray, Column, FactTable
from leadflow.core.lifecycle import MANUAL_ONLY, criteria, effective_rank
from leadflow.core.playbook import Playbook
from leadflow.core.stages import Stage, funnel_rank


def may_move(
    playbook: Playbook,
    stages: Sequence[str],
    facts: Mapping[str, Column],
    raised: BoolArray,
) -> BoolArray:
    """Where `automatic_transition` may move a lead in `stages` whose stage facts (score
    fields, e-mail, probability: every path of `lifecycle.criteria_fields`) are `facts`, as
    columns; `raised`: the leads with a hand-raiser event since their last stage change."""
    size = len(stages)
    ranks = {s: _rank(s) for s in set(stages)}
    rank = np.fromiter((ranks[s] for s in stages), np.int64, size)
    table = FactTable(facts, size)
    held = raised.copy()
    for target, condition in criteria(playbook):
        above = funnel_rank(target) > rank
        if above.any():
            held |= above & table.holds(condition)
    if playbook.lifecycle.on_decay == "fall_back":
        held |= np.fromiter((s == Stage.MQL.value for s in stages), bool, size)
    return held & (rank >= 0)


def _rank(stage: str) -> int:
    """The rank a criterion must beat; -1 for a stage only a person moves a lead out of."""
    current = Stage(stage)
    return -1 if current in MANUAL_ONLY else effective_rank(current)
