"""Each won lead's credit per campaign (`core.attribution_credit`): what the report adds up,
kept per lead or computed on the spot. Against the per-path reference (`weights` of one
lead's path, times its amount, summed per campaign and rounded to millionths), for random
leads and touches; and each campaign's pairs are the distinct leads it touched."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core.attribution import MODELS, NEVER, Path, weights
from leadflow.core.attribution_credit import MICROS, NO_CLOSE, credit, won_paths

DAY = 86_400 * 1_000_000
T0 = 1_788_000_000 * 1_000_000  # microseconds since 1970, in 2026

lead_strategy = st.tuples(
    st.integers(0, 60),  # created, days after T0
    st.one_of(st.none(), st.integers(0, 90)),  # opportunity
    st.one_of(st.none(), st.integers(0, 120)),  # won (None: no closing time)
    st.floats(0, 1e7, allow_nan=False),  # amount
    st.one_of(st.none(), st.sampled_from(["spring", "fall"])),  # acquired by
)
touch_strategy = st.tuples(
    st.integers(0, 4), st.sampled_from(["spring", "fall", "digest", "b"]), st.integers(0, 120)
)


@given(st.lists(lead_strategy, min_size=1, max_size=5), st.lists(touch_strategy, max_size=30),
       st.sampled_from([7.0, 0.5, 90.0]))  # fmt: skip
def test_credit_is_each_paths_weights_times_its_amount_summed_per_campaign(
    leads: list[tuple[int, int | None, int | None, float, str | None]],
    touches: list[tuple[int, str, int]],
    half_life: float,
) -> None:
    ids = [10 * (k + 1) for k in range(len(leads))]
    mine = [(ids[lead], name, T0 + day * DAY) for lead, name, day in touches if lead < len(ids)]
    created = np.array([T0 + c * DAY for c, *_ in leads], dtype=np.int64)
    opened = np.array([NEVER if o is None else T0 + o * DAY for _, o, *_ in leads], np.int64)
    won = np.array([NO_CLOSE if w is None else T0 + w * DAY for _, _, w, *_ in leads], np.int64)
    amounts = np.array([a for *_, a, _ in leads], dtype=np.float64)
    acquired = [c for *_, c in leads]
    paths, campaigns = won_paths(
        ids, created, opened, won, amounts, acquired,
        (np.array([i for i, _, _ in mine], np.int64), [n for _, n, _ in mine],
         np.array([t for _, _, t in mine], np.int64)),
    )  # fmt: skip
    found = credit(paths, MODELS, half_life)
    got = {
        (ids[lead], campaigns[code]): {m: int(found.micros[m][k]) for m in MODELS}
        for k, (lead, code) in enumerate(
            zip(found.leads.tolist(), found.codes.tolist(), strict=True)
        )
    }
    assert len(got) == found.leads.size  # distinct pairs
    assert list(zip(found.leads.tolist(), found.codes.tolist(), strict=True)) == sorted(
        zip(found.leads.tolist(), found.codes.tolist(), strict=True)
    )
    assert got == _reference(ids, leads, mine, half_life)


def _reference(
    ids: list[int],
    leads: list[tuple[int, int | None, int | None, float, str | None]],
    touches: list[tuple[int, str, int]],
    half_life: float,
) -> dict[tuple[int, str], dict[str, int]]:
    """One lead at a time: its touches (the acquiring campaign at creation first among
    equals by name), by time then campaign; each model's weights times the amount, summed
    per campaign in path order, rounded to millionths."""
    expected: dict[tuple[int, str], dict[str, int]] = {}
    for lead_id, (created, opened, won, amount, acquired) in zip(ids, leads, strict=True):
        path = sorted((t, n) for i, n, t in touches if i == lead_id)
        if acquired is not None:
            path = sorted([*path, (T0 + created * DAY, acquired)])
        if not path:
            continue
        won_at = path[-1][0] if won is None else T0 + won * DAY
        one = Path([n for _, n in path], [t for t, _ in path], T0 + created * DAY,
                   None if opened is None else T0 + opened * DAY, won_at)  # fmt: skip
        for model in MODELS:
            sums: dict[str, float] = defaultdict(float)
            for (_, name), weight in zip(path, weights(one, model, half_life), strict=True):
                sums[name] += weight * amount
            for name, total in sums.items():
                expected.setdefault((lead_id, name), {})[model] = int(np.rint(total * MICROS))
    return expected
