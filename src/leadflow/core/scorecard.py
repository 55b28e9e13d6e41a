"""A scorecard: attributes binned into readable conditions, each with points. Pure NumPy.

Numeric columns are cut at quantiles into a few ranges; text columns keep their frequent
values. Optionally (`tune --history`), a text column with many different values is binned by
its frequent words instead (a job title's "VP" or "Intern" carries over to spellings seen too
rarely to be bins of their own), and blank values get a bin of their own. A column of counts
(how often a lead did something) can instead be one feature: the count, capped where nine in
ten rows stop (what a playbook's engagement rule with points per event and a cap can say). Each
bin becomes a one-hot feature (a capped count, its count); a regularised logistic regression
(fitted elsewhere) gives each a weight, and the weights become points a person can read and
argue with. `condense` then folds bins that earn the same points into one rule (values into an
`in` list, adjacent ranges into one range), which changes no lead's score.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from leadflow.core import amounts

BINS = 5  # ranges per numeric column
# A text column with more different values than this is free text (job titles): its words
# become bins too.
WORDS_FROM = 30
# A counted column's cap: the count nine in ten rows do not exceed (at least 1).
CAP_QUANTILE = 0.9
# Points that double the odds of conversion: the scale of every point in the proposal.
POINTS_TO_DOUBLE_ODDS = 10.0


@dataclass(frozen=True, slots=True)
class Bin:
    """One condition on one column: a numeric range [low, high), a text value, one of several
    values (`values`), a word in the text, or the value left blank; or, with `cap`, not a
    condition but the column's count itself, up to `cap`."""

    column: str
    low: float | None = None
    high: float | None = None
    value: str | None = None
    word: str | None = None
    values: tuple[str, ...] = ()
    blank: bool = False
    cap: float | None = None

    def label(self) -> str:
        if self.cap is not None:
            return f"{self.column} (each time, up to {self.cap:g})"
        if self.value is not None:
            return f"{self.column} is {self.value}"
        if self.values:
            shown = ", ".join(self.values[:3])
            more = f" (+{len(self.values) - 3} more)" if len(self.values) > 3 else ""
            return f"{self.column} is one of {shown}{more}"
        if self.word is not None:
            return f"{self.column} has the word {self.word}"
        if self.blank:
            return f"{self.column} is blank"
        if self.low is None:
            return f"{self.column} below {self.high:g}"
        if self.high is None:
            return f"{self.column} {self.low:g} or more"
        return f"{self.column} {self.low:g} to {self.high:g}"


def numeric(values: Sequence[str | None]) -> npt.NDArray[np.float64] | None:
    """The column as floats (blank: NaN) when nearly all its values are numbers, else None."""
    out = np.full(len(values), np.nan)
    filled = bad = 0
    for k, value in enumerate(values):
        if value is None or not value.strip():
            continue
        filled += 1
        number = amounts.number(value)
        if number is None:
            bad += 1
        else:
            out[k] = number
    return out if filled and bad <= 0.05 * filled else None


def numeric_bins(column: str, values: npt.NDArray[np.float64], ranges: int = BINS) -> list[Bin]:
    """Quantile ranges of the known values (fewer when values repeat)."""
    known = values[~np.isnan(values)]
    if known.size == 0:
        return []
    edges = np.unique(np.quantile(known, np.linspace(0, 1, ranges + 1)[1:-1]))
    cuts = [float(e) for e in edges]
    if not cuts:
        return []
    bounds = [None, *cuts, None]
    return [Bin(column, low=bounds[k], high=bounds[k + 1]) for k in range(len(bounds) - 1)]


def count_bin(column: str, values: npt.NDArray[np.float64]) -> Bin:
    """The column's count as one feature, capped where CAP_QUANTILE of the rows stop."""
    counts = np.nan_to_num(values)
    cap = float(np.quantile(counts, CAP_QUANTILE)) if counts.size else 0.0
    return Bin(column, cap=max(1.0, cap))


def counted(values: Sequence[str | None], cap: float) -> npt.NDArray[np.float64]:
    """A counted column's feature: each row's count up to `cap` (blank, not a number or
    negative: none; infinite: the cap)."""
    parsed = numeric(values)
    if parsed is None:
        return np.zeros(len(values))
    return np.clip(np.nan_to_num(parsed, nan=0.0, posinf=cap, neginf=0.0), 0.0, cap)


def text_bins(column: str, values: Sequence[str | None], min_support: int) -> list[Bin]:
    """The column's values seen at least `min_support` times."""
    spellings = Counter(v.strip() for v in values if v and v.strip())
    counts: Counter[str] = Counter()
    for spelling, n in spellings.items():
        counts[spelling.casefold()] += n
    shown: dict[str, str] = {}  # as a playbook compares text: in any case, most common spelling
    for spelling, _ in spellings.most_common():
        shown.setdefault(spelling.casefold(), spelling)
    return [Bin(column, value=shown[key]) for key, n in counts.most_common() if n >= min_support]


def words_of(text: str | None) -> set[str]:
    """The words of a value (Python's Unicode words, as `word_pattern`'s rule finds them), in
    lower case."""
    return set(re.findall(r"\w+", (text or "").lower()))


def word_bins(column: str, values: Sequence[str | None], min_support: int) -> list[Bin]:
    """The words found in at least `min_support` values, when the column is free text (more
    than WORDS_FROM different values); none otherwise."""
    if len({v.strip() for v in values if v and v.strip()}) <= WORDS_FROM:
        return []
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}  # each word as most often written
    for spelling, n in Counter(v.strip() for v in values if v and v.strip()).most_common():
        for word in set(re.findall(r"\w+", spelling)):
            if re.search(r"[^\W\d_]", word):  # a word has a letter: "12" in "City 12" is not
                counts[word.lower()] += n
                shown.setdefault(word.lower(), word)
    return [Bin(column, word=shown[w]) for w, n in counts.most_common() if n >= min_support]


# Not a word character in any script (what Python's `\w` is not): conditions run on RE2,
# whose `\b` sees only ASCII words, so a word that starts or ends with another letter (Ärztin,
# 部長) is bounded by this instead.
_NOT_WORD = r"[^\pL\pN_]"


def word_pattern(word: str) -> str:
    """The playbook regex that holds when the word appears in a value, in any case."""
    left = r"\b" if word[:1].isascii() else rf"(?:^|{_NOT_WORD})"
    right = r"\b" if word[-1:].isascii() else rf"(?:{_NOT_WORD}|$)"
    return rf"(?i){left}{re.escape(word)}{right}"


def is_blank(value: str | None) -> bool:
    """No value, or only spaces."""
    return value is None or not value.strip()


def design(
    bins: Sequence[Bin], columns: Mapping[str, Sequence[str | None]]
) -> npt.NDArray[np.float64]:
    """Rows x bins: 1 where the row's value falls in the bin."""
    rows = len(next(iter(columns.values()))) if columns else 0
    matrix = np.zeros((rows, len(bins)))
    parsed: dict[str, npt.NDArray[np.float64] | None] = {}
    for j, b in enumerate(bins):
        raw = columns[b.column]
        if b.value is not None or b.values:
            wanted = {w.casefold() for w in ([b.value] if b.value is not None else b.values)}
            matrix[:, j] = [1.0 if (v or "").strip().casefold() in wanted else 0.0 for v in raw]
            continue
        if b.word is not None:
            word = b.word.lower()
            matrix[:, j] = [1.0 if word in words_of(v) else 0.0 for v in raw]
            continue
        if b.blank:
            matrix[:, j] = [1.0 if is_blank(v) else 0.0 for v in raw]
            continue
        if b.cap is not None:
            matrix[:, j] = counted(raw, b.cap)
            continue
        if b.column not in parsed:
            parsed[b.column] = numeric(raw)
        values = parsed[b.column]
        if values is None:
            continue
        inside = ~np.isnan(values)
        if b.low is not None:
            inside &= values >= b.low
        if b.high is not None:
            inside &= values < b.high
        matrix[:, j] = inside
    return matrix


def points(weights: npt.NDArray[np.float64], least: float = 0.0) -> npt.NDArray[np.float64]:
    """Logistic weights (log-odds) as points: POINTS_TO_DOUBLE_ODDS per doubling of the odds,
    rounded to whole points (negative for values that make conversion less likely); points
    smaller than `least` either way become 0 (no rule: too small to argue about)."""
    scaled: npt.NDArray[np.float64] = np.round(weights * POINTS_TO_DOUBLE_ODDS / np.log(2.0))
    kept: npt.NDArray[np.float64] = np.where(np.abs(scaled) < least, 0.0, scaled)
    return kept


def share_for_precision(
    scores: npt.NDArray[np.float64], outcome: npt.NDArray[np.int64], precision: float
) -> float | None:
    """The largest share of leads, taken best score first, whose conversion is still at least
    `precision`; None when not even the best lead alone reaches it."""
    order = np.argsort(-scores, kind="mergesort")
    hits = np.cumsum(outcome[order])
    rates = hits / np.arange(1, scores.size + 1)
    good = np.flatnonzero(rates >= precision)
    return float((good[-1] + 1) / scores.size) if good.size else None


def bins_for(
    columns: Mapping[str, Sequence[str | None]],
    rows: npt.NDArray[np.int64],
    min_support: int,
    *,
    ranges: int = BINS,
    words: bool = False,
    counts: Collection[str] = (),
) -> list[Bin]:
    """The bins of every column, learned from `rows` only (numeric ranges, or frequent text
    values seen at least `min_support` times there). With `words`, free-text columns by their
    frequent words instead of their values, and a bin for blank values where at least
    `min_support` are blank. The columns named in `counts` are each one capped count."""
    found: list[Bin] = []
    for name, values in columns.items():
        subset = [values[k] for k in rows]
        parsed = numeric(subset)
        if name in counts:
            found.append(count_bin(name, np.zeros(0) if parsed is None else parsed))
            continue
        if parsed is not None:
            found += numeric_bins(name, parsed, ranges)
        else:  # free text by its words (which carry over to rare spellings), else by value
            by_word = word_bins(name, subset, min_support) if words else []
            found += by_word or text_bins(name, subset, min_support)
        if words and sum(map(is_blank, subset)) >= min_support:
            found.append(Bin(name, blank=True))
    return found


def condense(bins: Sequence[Bin], awarded: Sequence[float]) -> list[tuple[Bin, float]]:
    """The bins that earn points, those of one column earning the same points folded into one:
    text values into one `values` bin, touching ranges into one range. Every row scores as
    before (a row falls in at most one value and one range of a column)."""
    kept: list[tuple[Bin, float]] = []
    grouped: dict[tuple[str, float], list[str]] = {}
    for b, p in zip(bins, awarded, strict=True):
        if p == 0:
            continue
        if b.value is not None:
            grouped.setdefault((b.column, p), []).append(b.value)
        elif kept and _continues(kept[-1], b, p):
            kept[-1] = (Bin(b.column, low=kept[-1][0].low, high=b.high), p)
        else:
            kept.append((b, p))
    for (column, p), values in grouped.items():
        many = len(values) > 1
        kept.append(
            (Bin(column, values=tuple(values)) if many else Bin(column, value=values[0]), p)
        )
    return kept


def _continues(last: tuple[Bin, float], b: Bin, p: float) -> bool:
    """`b` is the range right after `last`'s, on the same column, for the same points."""
    before, points_before = last
    touching = before.high is not None and before.high == b.low
    return before.column == b.column and points_before == p and touching


def stored(b: Bin) -> dict[str, Any]:
    """The bin as a stored model keeps it (JSON): a range and a value as models always kept
    them, and only those of the later fields it sets."""
    kept: dict[str, Any] = {"column": b.column, "low": b.low, "high": b.high, "value": b.value}
    extra = {"word": b.word, "values": list(b.values), "blank": b.blank, "cap": b.cap}
    kept.update({k: v for k, v in extra.items() if v})
    return kept


def from_stored(data: Mapping[str, Any]) -> Bin:
    """A stored bin, as `stored` wrote it or as models before words and counts did (a column
    with a range or a value)."""
    return Bin(
        data["column"], data.get("low"), data.get("high"), data.get("value"),
        word=data.get("word"), values=tuple(data.get("values") or ()),
        blank=bool(data.get("blank")), cap=data.get("cap"),
    )  # fmt: skip


def condition(field: str, b: Bin) -> dict[str, object]:
    """A playbook condition on `field` that holds exactly when a value falls in the bin (a
    capped count is an engagement rule, not a condition)."""
    if b.cap is not None:
        raise ValueError(f"{b.label()}: a count, not a condition")
    if b.value is not None:
        return {"field": field, "equals": b.value}
    if b.values:
        return {"field": field, "in": list(b.values)}
    if b.word is not None:
        return {"field": field, "regex": word_pattern(b.word)}
    if b.blank:
        return {"field": field, "exists": False}
    if b.low is None:
        return {"field": field, "lt": b.high}
    if b.high is None:
        return {"field": field, "gte": b.low}
    return {"all": [{"field": field, "gte": b.low}, {"field": field, "lt": b.high}]}


def slug(text: str) -> str:
    """A rule id from a label."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "rule"


def grade_cutoffs(scores: npt.NDArray[np.float64], names: tuple[str, str, str]) -> dict[str, float]:
    """Cut-offs at the top 10%, 30% and 60% of scores, each strictly below the one before."""
    cuts: list[float] = []
    for q in (0.9, 0.7, 0.4):
        value = float(np.round(np.quantile(scores, q), 1)) if scores.size else 0.0
        cuts.append(min(value, cuts[-1] - 0.1) if cuts else value)
    return {name: round(cut, 1) for name, cut in zip(names, cuts, strict=True)}
