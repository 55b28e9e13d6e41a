"""The scorecard's bins: words of free text, blanks, condensed rules, and playbook conditions
that hold exactly where the fitted bins do."""

from __future__ import annotations

import numpy as np

from leadflow.core import scorecard
from leadflow.core.conditions import Condition, evaluate
from leadflow.core.scorecard import Bin

SENIORITY = ["VP", "Head of", "Director", "Junior", "Intern", "Chief"]
FUNCTION = ["Operations", "IT", "Security", "Finance", "HR", "Legal"]  # "it" in "Security"
WORDING = ["{s} {f}", "{s} {f} Manager", "{s} {f} Lead"]


def titles(rows: int) -> list[str | None]:
    """Free text: a hundred-odd spellings, each word in many of them, one written in lower case."""
    made: list[str | None] = [
        WORDING[k % 3].format(s=SENIORITY[k % 6], f=FUNCTION[(k // 6) % 6]) for k in range(rows)
    ]
    made[0] = "vp operations"
    made[1] = None
    made[2] = "  "
    return made


def everything(rows: int) -> np.ndarray:
    return np.arange(rows, dtype=np.int64)


def test_free_text_is_binned_by_its_words_and_few_values_by_value() -> None:
    columns = {"Job Title": titles(400), "Source": ["Referral", "Webinar"] * 200}
    found = scorecard.bins_for(columns, everything(400), 20, words=True)
    words = {b.word for b in found if b.column == "Job Title"}
    assert {"VP", "Intern", "Operations", "Manager", "IT"} <= words  # as most often written
    assert not any(b.value for b in found if b.column == "Job Title")  # words, not spellings
    assert {b.value for b in found if b.column == "Source"} == {"Referral", "Webinar"}
    # without words (what `model train` serves) the title keeps its frequent values instead
    plain = scorecard.bins_for(columns, everything(400), 5)
    assert not any(b.word for b in plain) and any(b.value for b in plain if b.column == "Job Title")


def test_digits_are_not_words_and_blanks_are_a_bin_when_frequent_enough() -> None:
    cities: list[str | None] = [f"City {k % 60}" for k in range(300)]
    cities[:25] = [None] * 25
    found = scorecard.bins_for({"City": cities}, everything(300), 20, words=True)
    assert Bin("City", word="City") in found and not any(b.word == "7" for b in found)
    assert Bin("City", blank=True) in found
    few = scorecard.bins_for({"City": cities}, everything(300), 30, words=True)
    assert Bin("City", blank=True) not in few  # 25 blanks: fewer than the support asked for


def test_values_differing_in_case_are_one_bin_in_their_most_common_spelling() -> None:
    found = scorecard.text_bins("Industry", ["Software"] * 3 + ["software"] + ["Retail"], 2)
    assert found == [Bin("Industry", value="Software")]
    matrix = scorecard.design(found, {"Industry": ["software", "SOFTWARE ", "Retail"]})
    assert matrix[:, 0].tolist() == [1.0, 1.0, 0.0]


def test_each_bin_s_playbook_condition_holds_exactly_where_the_bin_does() -> None:
    rows = 400
    title = titles(rows)
    employees: list[str | None] = [str(k * 7 % 900) if k % 9 else None for k in range(rows)]
    employees[3] = "n/a"  # not a number: in no range, and not blank either
    columns = {"title": title, "employees": employees}
    found = scorecard.bins_for(columns, everything(rows), 20, ranges=10, words=True)
    found += [Bin("title", values=("VP Operations", "Chief IT")), Bin("title", value="Intern HR")]
    assert {b.blank for b in found} == {True, False} and any(b.word for b in found)
    matrix = scorecard.design(found, columns)
    for j, b in enumerate(found):
        condition = Condition.model_validate(scorecard.condition(b.column, b))
        holds = [evaluate(condition, facts(b.column, columns[b.column][r])) for r in range(rows)]
        assert holds == matrix[:, j].astype(bool).tolist(), b.label()


def facts(name: str, value: str | None) -> dict[str, str]:
    """A lead's facts as an import stores them: text stripped, blanks left out."""
    return {name: value.strip()} if value and value.strip() else {}


def test_condensing_folds_equal_points_without_changing_any_score() -> None:
    values = ["A", "B", "C", "D", None] * 40
    numbers = [str(k % 50) for k in range(200)]
    columns = {"kind": values, "size": numbers}
    found = scorecard.bins_for(columns, everything(200), 10, ranges=5, words=True)
    ranges = [b for b in found if b.column == "size"]
    assert len(ranges) == 5
    # kind: A and B earn 4, C -3, D nothing, blank 5; size: 2, 2, then 0, then 2, 2
    by_bin = {"A": 4.0, "B": 4.0, "C": -3.0, "D": 0.0}
    awarded = [
        by_bin[b.value]
        if b.value
        else 5.0
        if b.blank
        else [2.0, 2.0, 0.0, 2.0, 2.0][ranges.index(b)]
        for b in found
    ]
    condensed = scorecard.condense(found, awarded)
    labels = {b.label(): p for b, p in condensed}
    assert labels["kind is one of A, B"] == 4.0 and labels["kind is C"] == -3.0
    assert labels["kind is blank"] == 5.0 and not any("D" in label for label in labels)
    merged = [b for b, _ in condensed if b.column == "size"]
    assert len(merged) == 2 and merged[0].low is None and merged[1].high is None
    before = scorecard.design(found, columns) @ np.array(awarded)
    after = scorecard.design([b for b, _ in condensed], columns) @ np.array(
        [p for _, p in condensed]
    )
    assert np.array_equal(before, after)


def test_points_below_the_least_are_left_out() -> None:
    weights = np.log(2.0) * np.array([0.24, -0.26, 0.31, -1.0]) / 1.0
    assert scorecard.points(weights).tolist() == [2.0, -3.0, 3.0, -10.0]
    assert scorecard.points(weights, 3.0).tolist() == [0.0, -3.0, 3.0, -10.0]


def test_counted_columns_are_one_feature_capped_where_nine_in_ten_stop() -> None:
    visits = [str(k % 10) for k in range(200)] + [None] * 20  # 0..9, then blanks (none)
    columns = {"visits": visits, "title": titles(220)}
    found = scorecard.bins_for(columns, everything(220), 20, words=True, counts={"visits"})
    [count] = [b for b in found if b.column == "visits"]
    assert count == Bin("visits", cap=8.0) and count.label() == "visits (each time, up to 8)"
    x = scorecard.design([count], columns)[:, 0]
    assert list(x[:10]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 8] and not x[200:].any()
    assert scorecard.count_bin("rare", np.zeros(50)).cap == 1.0  # at least one


def test_a_stored_bin_reads_back_the_same_and_old_stored_bins_still_read() -> None:
    kinds = [Bin("title", word="VP"), Bin("source", values=("ads", "seo")),
             Bin("source", blank=True), Bin("page /pricing", cap=4.0), Bin("size", 1.0, 9.0),
             Bin("industry", value="Software")]  # fmt: skip
    assert [scorecard.from_stored(scorecard.stored(b)) for b in kinds] == kinds
    assert scorecard.stored(Bin("size", 1.0, 9.0)) == {
        "column": "size",
        "low": 1.0,
        "high": 9.0,
        "value": None,
    }  # as models always kept it
    old = {"column": "page /pricing", "low": 1.0, "high": None, "value": None}  # before words
    assert scorecard.from_stored(old) == Bin("page /pricing", low=1.0)


def test_a_word_rule_holds_where_the_scorecard_sees_the_word_in_any_script() -> None:
    """The scorecard learns from the words of a value (`words_of`, Python's Unicode words);
    the playbook rule it suggests runs on RE2, whose `\\b` knows only ASCII words: a word
    that starts or ends with another letter is bounded by non-word characters of any script,
    so the rule holds exactly where the scorecard saw the word."""
    titles = ["Leitende Ärztin, Klinik", "Oberärztin", "営業 部長", "営業部長", "Café owner",
              "the VP of sales", "VPN admin", "Ärztinnen", "ärztin"]  # fmt: skip
    for word in ("Ärztin", "部長", "café", "VP"):
        rule = Condition(field="title", regex=scorecard.word_pattern(word))
        for title in titles:
            seen = word.lower() in {w.lower() for w in scorecard.words_of(title)}
            assert evaluate(rule, {"title": title}) is seen, (word, title)


def test_a_number_is_read_as_the_playbook_reads_it() -> None:
    """`1,5` was 15 to the scorecard (every comma dropped); a playbook reads no number there."""
    values = ["1,5", "1,234", "$2,000", *["3"] * 97]
    parsed = scorecard.numeric(values)
    assert parsed is not None
    assert np.isnan(parsed[0]) and list(parsed[1:3]) == [1234.0, 2000.0]
