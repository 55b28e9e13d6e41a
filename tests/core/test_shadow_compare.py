"""Two playbooks on the same leads, figures worked by hand."""

from __future__ import annotations

import numpy as np

from leadflow.core.shadow_compare import Side, compare, outcome_codes


def test_figures_by_hand() -> None:
    ids = np.array([10, 11, 12, 13, 14], dtype=np.int64)
    outcome = outcome_codes(["won", "lost", "won", None, "lost"])
    active = Side(np.array([50.0, 40.0, 10.0, 70.0, 20.0]), np.array([1, 1, 0, 1, 0], dtype=bool))
    candidate = Side(np.array([60.0, 5.0, 45.0, 70.0, 15.0]), np.array([1, 0, 1, 1, 0], dtype=bool))
    figures = compare(ids, outcome, active, candidate)
    assert (figures["leads"], figures["closed"], figures["won"]) == (5, 4, 2)
    # Active: MQLs 10, 11, 13; closed 10, 11; won 10. Won {50, 10} vs lost {40, 20}: 2 of 4.
    assert figures["active"] == {"mqls": 3, "mqls_closed": 2, "mqls_won": 1,
                                 "mql_win_rate": 0.5, "auc": 0.5}  # fmt: skip
    # Candidate: MQLs 10, 12, 13; closed 10, 12, both won. Won {60, 45} above lost {5, 15}.
    assert figures["candidate"] == {"mqls": 3, "mqls_closed": 2, "mqls_won": 2,
                                    "mql_win_rate": 1.0, "auc": 1.0}  # fmt: skip
    disagree = figures["disagree"]
    assert (disagree["active_only"], disagree["candidate_only"]) == (1, 1)
    # Lead 12's totals differ by 35, lead 11's by 35 too: the lower id first.
    assert [d["lead_id"] for d in disagree["leads"]] == [11, 12]
    first = {"lead_id": 11, "active_total": 40.0, "candidate_total": 5.0,
             "active_mql": True, "candidate_mql": False, "outcome": "lost"}  # fmt: skip
    assert disagree["leads"][0] == first


def test_no_leads_and_one_class_give_no_auc() -> None:
    empty = Side(np.zeros(0), np.zeros(0, dtype=bool))
    figures = compare(np.zeros(0, dtype=np.int64), outcome_codes([]), empty, empty)
    assert figures["leads"] == 0 and figures["active"]["auc"] is None
    assert figures["active"]["mql_win_rate"] is None and figures["disagree"]["leads"] == []
    one = Side(np.array([1.0, 2.0]), np.array([True, False]))
    assert (
        compare(np.array([1, 2]), outcome_codes(["won", "won"]), one, one)["active"]["auc"] is None
    )


def test_disagreements_shown_are_capped() -> None:
    n = 80
    ids = np.arange(n, dtype=np.int64)
    yes, no = (
        Side(np.arange(n, dtype=np.float64), np.ones(n, dtype=bool)),
        Side(np.zeros(n), np.zeros(n, dtype=bool)),
    )
    figures = compare(ids, outcome_codes([None] * n), yes, no)
    assert figures["disagree"]["active_only"] == n and len(figures["disagree"]["leads"]) == 50
    assert figures["disagree"]["leads"][0]["lead_id"] == n - 1  # the biggest gap first
