"""Shadow playbooks: run a candidate beside the active one, compare them, promote the better.

`start` stores the candidate as a version and marks it the shadow; from then on every live
scoring (`services.shadow_live`, a step of `pipeline.run_live`) scores it too and acts on
nothing. `compare` reads what both made of the leads they both scored; `backtest` gives the
same figures at once from history (both playbooks scored in bulk at `now`); `promote` applies
the candidate the usual way (`playbooks.apply`: diff, re-score, stage moves).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core import facts as core_facts
from leadflow.core.errors import Conflict, NotFound
from leadflow.core.lifecycle import criteria_need_facts
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import content_hash, parse_playbook
from leadflow.core.scoring import LeadScore, PersonaMatch
from leadflow.core.shadow_compare import Side, compare, outcome_codes
from leadflow.core.stages import Stage, funnel_rank
from leadflow.models.playbook import PlaybookVersion
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import playbook_versions, stage_facts
from leadflow.repositories import shadow as repo
from leadflow.services import access, audit, playbooks, rescore
from leadflow.services.shadow_live import MQL_RANK, would_stage


def start(session: Session, text: str, *, author: str, now: datetime) -> PlaybookVersion:
    """Store the candidate (or reuse an identical version) and run it in the shadow."""
    book = parse_playbook(text)  # an invalid playbook never becomes a version
    active = playbook_versions.active(session)
    if active is not None and active.content_hash == content_hash(text):
        raise Conflict("this playbook is the active one: shadow a different candidate")
    version = playbook_versions.get_by_hash(session, content_hash(text))
    version = version or playbook_versions.create(
        session, name=book.name, content=text, author=author, at=now
    )
    repo.clear(session)  # the comparison starts afresh with each candidate
    playbook_versions.set_shadow(session, version.id)
    details = {"version": version.version, "name": version.name}
    target = f"playbook:v{version.version}"
    audit.record(session, actor=author, action="playbook.shadow", target=target, details=details,
                 now=now)  # fmt: skip
    return version


def stop(session: Session, *, author: str, now: datetime) -> PlaybookVersion:
    """Stop running the shadow candidate (its version is kept, its scores are dropped)."""
    version = shadow_version(session)
    playbook_versions.set_shadow(session, None)
    repo.clear(session)
    target = f"playbook:v{version.version}"
    audit.record(session, actor=author, action="playbook.unshadow", target=target, now=now)
    return version


def shadow_version(session: Session) -> PlaybookVersion:
    """The shadow version, or NotFound saying how to start one."""
    version = playbook_versions.shadow(session)
    if version is None:
        raise NotFound("no playbook runs in the shadow: run `leadflow playbook shadow FILE`")
    return version


def compare_live(session: Session) -> dict[str, Any]:
    """Both playbooks on the leads the shadow scored since it started."""
    version = shadow_version(session)
    active = playbooks.active_version(session)
    rows = repo.compared(session, version.id)
    figures = compare(
        np.array([r["lead_id"] for r in rows], dtype=np.int64),
        outcome_codes([r["outcome"] for r in rows]),
        Side(
            np.array([r["active_total"] for r in rows], dtype=np.float64),
            np.array([r["active_mql_at"] is not None for r in rows], dtype=np.bool_),
        ),
        Side(
            np.array([r["total"] for r in rows], dtype=np.float64),
            np.array([r["mql_at"] is not None for r in rows], dtype=np.bool_),
        ),
    )
    return {"mode": "shadow", **_versions(active, version), **figures}


def seen_by(session: Session, actor: access.Actor, figures: dict[str, Any]) -> dict[str, Any]:
    """The figures with only the disagreeing leads this actor may read listed (the counts
    stay whole: they name nobody)."""
    listed = figures["disagree"]["leads"]
    owners = {
        lead.id: lead.owner for lead in lead_repo.get_many(session, [r["lead_id"] for r in listed])
    }
    allowed = access.visible(actor, owners)
    kept = [r for r in listed if r["lead_id"] in allowed]
    return {**figures, "disagree": {**figures["disagree"], "leads": kept}}


def _versions(active: PlaybookVersion, candidate: PlaybookVersion | None) -> dict[str, Any]:
    return {
        "active_version": active.version,
        "candidate_version": candidate.version if candidate is not None else None,
        "candidate_name": candidate.name if candidate is not None else None,
    }


def backtest(session: Session, text: str, now: datetime) -> dict[str, Any]:
    """Both playbooks on every lead, scored in bulk at `now` from its whole history.

    It writes scores while it works: the caller rolls the transaction back.
    """
    candidate = parse_playbook(text)
    active = playbooks.active_playbook(session)
    ids, active_side = _bulk_side(session, active, now)
    again, candidate_side = _bulk_side(session, candidate, now)
    assert np.array_equal(ids, again)
    outcomes = repo.outcomes(session)
    codes = outcome_codes([outcomes.get(int(i)) for i in ids])
    figures = compare(ids, codes, active_side, candidate_side)
    version = playbooks.active_version(session)
    return {"mode": "backtest", **_versions(version, None), "candidate_name": candidate.name,
            **figures}  # fmt: skip


def _bulk_side(session: Session, book: Playbook, now: datetime) -> tuple[Any, Side]:
    """Every lead scored by this playbook in bulk, and the stage its automatic rules would
    give each from a fresh start (the live shadow's rule; hand-raisers are not replayed)."""
    rescore.rescore_all(session, book, now, cause="backtest")
    rows = stage_facts.stage_candidates(
        session, stages=[s.value for s in Stage], with_facts=criteria_need_facts(book)
    )
    totals, mql = [], []
    for row in rows:
        persona = PersonaMatch(row.persona, row.persona, 1.0, ()) if row.persona else None
        score = LeadScore(row.fit, row.engagement, row.total, row.grade or "D4", persona, ())
        facts = core_facts.facts_of(book, row.lead_facts, row.account_facts or None)
        stage = would_stage(book, Stage.SUBSCRIBER, score, facts, (), now)
        totals.append(row.total)
        mql.append(funnel_rank(stage) >= MQL_RANK)
    ids = np.array([r.id for r in rows], dtype=np.int64)
    return ids, Side(np.array(totals, dtype=np.float64), np.array(mql, dtype=np.bool_))


def promote(
    session: Session, *, author: str, now: datetime, dry_run: bool = False
) -> playbooks.ApplyOutcome:
    """Apply the shadow candidate as the new active version (the usual diff and re-score)."""
    version = shadow_version(session)
    playbook_versions.set_shadow(session, None)
    repo.clear(session)
    outcome = playbooks.apply(session, version.content, author=author, now=now, dry_run=dry_run)
    target = f"playbook:v{version.version}"
    audit.record(session, actor=author, action="playbook.promote", target=target, now=now)
    return outcome
