"""The served scorecard marks exactly the bins training marks, many rows or one at a time."""

from __future__ import annotations

import numpy as np

from leadflow.core import scorecard
from leadflow.core.scorecard import Bin
from leadflow.core.scorecard_serving import Compiled
from tests.core.test_scorecard import everything, titles


def test_the_compiled_scorecard_marks_exactly_the_bins_design_marks() -> None:
    """Serving scores one lead per event through `Compiled`; training goes through `design`:
    both must give every row the same bins (values in any case, words, blanks, ranges, an
    overlapping value list, text that is not a number)."""
    rng = np.random.default_rng(4)
    title = titles(240)
    size = [None if k % 17 == 0 else str(int(v)) for k, v in enumerate(rng.integers(1, 900, 240))]
    size[5] = "lots"  # one word among numbers: still a numeric column
    size[9], size[10] = "inf", "-inf"  # in the open-ended ranges only
    source = [rng.choice(["Google", "google ", "partner", None, "LinkedIn"]) for _ in range(240)]
    visits = [None if k % 11 == 0 else str(int(v)) for k, v in enumerate(rng.poisson(2, 240))]
    visits[3:7] = ["-inf", "nan", "inf", "-2"]  # not counts: none, or as many as the cap
    columns = {"title": title, "employees": size, "source": source, "visits": visits,
               "city": [rng.choice(["Oslo", "Lima"]) for _ in range(240)]}  # fmt: skip
    rows = everything(240)
    bins = [
        *scorecard.word_bins("title", title, 5),
        *scorecard.text_bins("title", title, 3),
        *scorecard.numeric_bins("employees", scorecard.numeric(size), 6),  # type: ignore[arg-type]
        *scorecard.text_bins("source", source, 1),
        Bin("source", values=("GOOGLE", "partner")),
        Bin("source", blank=True),
        Bin("title", blank=True),
        Bin("city", low=1.0, high=2.0),  # a range on text: no row
        Bin("visits", cap=3.0),  # a count, blank as none
        Bin("visits", low=2.0, high=None),
        Bin("city", cap=2.0),  # a count on text: none
    ]
    assert len(bins) > 20 and rows.size == 240
    expected = scorecard.design(bins, columns)
    assert expected.sum() > 240
    assert np.array_equal(Compiled(bins).design(columns), expected)
    compiled = Compiled(bins)
    for r in range(240):  # one row at a time, as live scoring serves it (its own code path)
        one = {name: values[r : r + 1] for name, values in columns.items()}
        assert np.array_equal(compiled.design(one), expected[r : r + 1]), r
