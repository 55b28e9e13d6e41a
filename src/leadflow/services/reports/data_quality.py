"""Data quality: fields scoring needs but leads lack, bad and bouncing e-mail addresses, stale
leads, and likely duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cdist
from sqlalchemy.orm import Session

from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.repositories import data_quality as quality
from leadflow.repositories import reports as queries
from leadflow.services.leads import ACCOUNT_FIELDS, LEAD_FIELDS
from leadflow.services.reports.base import share, table

BOUNCES = ("Email Bounced", "Email Hard Bounced", "Bounced")
# Two first names in one block (same last name, same company) this alike are likely one person.
SAME_PERSON = 85.0
LISTED = 50
# A company with more people of one last name than this is not a duplicate problem.
LARGEST_BLOCK = 25


def needed_fields(playbook: Playbook) -> set[str]:
    """Every fact path the fit rules and persona criteria read."""
    fields: set[str] = set()
    for rule in playbook.fit.rules:
        fields |= rule.fields()
    for persona in playbook.personas:
        for condition in persona.criteria:
            fields |= condition.fields()
    return fields


def _split(fields: set[str]) -> tuple[list[str], list[str], list[str]]:
    lead_columns = [*LEAD_FIELDS, "source", "medium", "campaign"]
    derived = {"email_domain", "tier", "account.tier", "persona"}
    lead, attributes, account = [], [], []
    for field in sorted(fields - derived):
        if field.startswith("account."):
            name = field.removeprefix("account.")
            if name in ACCOUNT_FIELDS:
                account.append(name)
        elif field in lead_columns:
            lead.append(field)
        elif "." not in field:
            attributes.append(field)
    return lead, attributes, account


def data_quality(
    session: Session, playbook: Playbook, cohort: Cohort, now: datetime, stale_days: int = 90
) -> dict[str, Any]:
    """Counts and samples of each data problem among the cohort's leads."""
    lead_cols, attributes, account_cols = _split(needed_fields(playbook))
    counted = quality.missing_fields(session, cohort, lead_cols, attributes, account_cols)
    size = counted.size
    rows = [
        {"problem": f"missing {field}", "leads": count, "share": share(count, size)}
        for field, count in sorted(counted.fields.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    # The list is looked for only when the count found some (a pass over every lead).
    found = counted.bad_emails
    invalid = queries.invalid_emails(session, cohort, LISTED, found) if found else []
    bouncing, bounced = queries.bounced(session, cohort, BOUNCES, LISTED)
    stale_count, stale = queries.stale(session, cohort, now - timedelta(days=stale_days))
    duplicates = likely_duplicates(queries.duplicate_candidates(session, cohort, LARGEST_BLOCK))
    rows += [
        # Counted in full: the lists beside them show only the first LISTED.
        {"problem": "invalid e-mail", "leads": found, "share": share(found, size)},
        {"problem": "bouncing e-mail", "leads": bouncing, "share": share(bouncing, size)},
        {"problem": f"no activity for {stale_days} days", "leads": stale_count,
         "share": share(stale_count, size)},
        {"problem": "likely duplicates (pairs)", "leads": len(duplicates), "share": None},
    ]  # fmt: skip
    return table(
        "data_quality", "Data quality",
        "Cohort leads. Missing: fields the playbook's fit rules and personas read that are "
        "empty. Invalid: no e-mail or not shaped like one. Bouncing: a bounce event. Stale: "
        f"open leads older than {stale_days} days with no event in that time. Duplicates: "
        f"leads with the same last name at the same account (blocks of at most {LARGEST_BLOCK}) "
        "whose first "
        f"names are at least {SAME_PERSON:g}% alike (Jaro-Winkler, which favours a shared "
        f"start: Kate / Katherine), or one is the other's prefix. Lists show the first {LISTED}.",
        cohort, ["problem", "leads", "share"], rows, leads=size,
        invalid_emails=[{"lead_id": i, "email": e} for i, e in invalid],
        bouncing=[{"lead_id": i, "email": e} for i, e in bounced],
        stale=[{"lead_id": i, "email": e} for i, e in stale],
        duplicates=duplicates[:LISTED],
    )  # fmt: skip


def likely_duplicates(candidates: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Pairs in each block whose first names look like one person's (Kate / Katherine):
    Jaro-Winkler over the whole block at once (rapidfuzz's cdist), or one name the other's
    prefix."""
    pairs: list[dict[str, Any]] = []
    for _, group in groupby(candidates, key=lambda row: (row[0], row[1])):
        block = [row for row in group if (row[4] or "").strip()]
        firsts = [str(row[4]).strip().lower() for row in block]
        if len(block) < 2:
            continue
        alike = 100 * cdist(firsts, firsts, scorer=JaroWinkler.normalized_similarity)
        for i, j in zip(*np.triu_indices(len(block), k=1), strict=True):
            prefix = firsts[i].startswith(firsts[j]) or firsts[j].startswith(firsts[i])
            similarity = 100.0 if prefix else float(alike[i, j])
            if similarity >= SAME_PERSON:
                a, b = block[i], block[j]
                pairs.append({
                    "keep": {"lead_id": a[2], "email": a[3]},
                    "duplicate": {"lead_id": b[2], "email": b[3]},
                    "name": f"{a[4]} {a[5]} / {b[4]} {b[5]}", "company": a[6],
                    "similarity": round(similarity, 1),
                })  # fmt: skip
    return pairs
