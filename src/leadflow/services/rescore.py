"""Re-score leads in bulk: columns out of SQL, `core.bulk` in memory, scores back in batches.

The numbers are the per-lead core's (`core.bulk` guarantees it); this module only turns rows
into the columns the core reads, from where `core.facts` says each fact comes from (the live
path's `lead_facts` holds the same values) and as `EventFacts.as_facts` shapes events,
and writes the results back in one transaction that the caller commits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

import numpy as np
from sqlalchemy.orm import Session

from leadflow.core import bulk
from leadflow.core.accounts import account_only
from leadflow.core.bulk_columns import Coded, Encoder, IntArray, index_of
from leadflow.core.playbook import Playbook
from leadflow.repositories import rescoring, rescoring_reads, rule_state
from leadflow.repositories._arrow import Reading
from leadflow.services import rescore_events, rescore_leads, rescore_write
from leadflow.services.rescore_leads import LeadRows

Progress = Callable[[str], None]


@dataclass
class RescoreResult:
    """How many leads and events were scored, how long it took, and where the time went."""

    leads: int
    events: int
    seconds: float
    changed: int = 0  # leads whose total moved (a ledger entry each)
    written: int = 0  # leads whose stored score changed in any way
    accounts: int = 0
    phases: dict[str, float] = field(default_factory=dict)


class _Clock:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.phases: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        if self.progress is not None:
            self.progress(phase)
        started = time.perf_counter()
        yield
        self.phases[phase] = self.phases.get(phase, 0.0) + time.perf_counter() - started


def rescore_all(
    session: Session,
    playbook: Playbook,
    now: datetime,
    progress: Progress | None = None,
    *,
    lead_ids: Iterable[int] | None = None,
    account_ids: Iterable[int] = (),
    cause: str = "rescore",
) -> RescoreResult:
    """Score every lead (or those listed) at `now`, update their accounts (and, with leads
    listed, these accounts besides: ones the leads left); the caller commits."""
    started = time.perf_counter()
    clock = _Clock(progress)
    wanted = None if lead_ids is None else sorted(set(lead_ids))
    if wanted and not all(type(i) is int for i in wanted):
        raise TypeError(f"lead_ids must be lead ids (int), not e.g. {wanted[0]!r}")
    with rescoring.bulk_reads(session):
        also = sorted(set(account_ids)) if wanted is not None else []
        result = _rescore(session, playbook, now, clock, wanted, also, cause)
    result.seconds = time.perf_counter() - started
    return result


def _rescore(
    session: Session,
    playbook: Playbook,
    now: datetime,
    clock: _Clock,
    wanted: list[int] | None,
    also: list[int],
    cause: str,
) -> RescoreResult:
    # Every lead: child processes read the events meanwhile (the two phases overlap).
    ahead = rescore_events.reading_ahead(session, playbook) if wanted is None else nullcontext()
    with ahead as started:
        with clock("read leads"):
            leads = rescore_leads.read_leads(session, playbook, wanted)
        with clock("read events"):
            events = _read_events(session, playbook, leads.ids, wanted, started)
    with clock("score"):
        scores = bulk.score_leads(playbook, leads.columns, events, now)
    with rescoring.bulk_writes(session):
        with clock("write leads"):
            written = rescore_write.write(session, leads, scores, now, every=wanted is None)
        with clock("write ledger"):
            changed = _append_ledger(session, leads, scores, now, cause)
        with clock("accounts"):
            accounts = _rescore_accounts(
                session, playbook, leads, scores, now, subset=wanted, also=also
            )
            rule_state.forget_rollups_of(session, wanted)  # live roll-ups recount these once
            if also:
                rule_state.forget_rollups(session, also)
    return RescoreResult(
        leads=len(leads.ids),
        events=len(events.lead),
        seconds=0.0,
        changed=changed,
        written=written,
        accounts=accounts,
        phases=clock.phases,
    )


# --- events out ------------------------------------------------------------------------------


def _read_events(
    session: Session,
    playbook: Playbook,
    lead_ids: IntArray,
    wanted: list[int] | None,
    started: Reading | None,
) -> bulk.EventColumns:
    paths = sorted(bulk.event_paths(playbook))
    where = [path.split(".") for path in paths]
    if wanted is None and (
        kinds := rescore_events.kind_columns(session, playbook, lead_ids, started)
    ):
        return kinds
    texts = [Encoder(text=True) for _ in range(2 + len(where))]  # type, name, where...
    leads: list[IntArray] = []
    times: list[IntArray] = []
    codes: list[list[IntArray]] = [[] for _ in texts]
    position = index_of(lead_ids)
    for rows in rescoring_reads.read_events(session, paths, lead_ids=wanted):
        size = len(rows)
        leads.append(position(np.fromiter(map(itemgetter(0), rows), np.int64, size)))
        times.append(np.fromiter(map(itemgetter(3), rows), np.int64, size))
        for k, column in enumerate((1, 2, *range(4, 4 + len(where)))):
            codes[k].append(texts[k].encode(list(map(itemgetter(column), rows))))
    coded = [e.coded(_joined(c)) for e, c in zip(texts, codes, strict=True)]
    return bulk.EventColumns(
        lead=_joined(leads),
        type=coded[0],
        name=coded[1],
        occurred_us=_joined(times),
        where={
            ".".join(keys): Coded(
                raw.codes, [None if t is None else json.loads(t) for t in raw.values]
            )
            for keys, raw in zip(where, coded[2:], strict=True)
        },
    )


def _joined(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


# --- scores in --------------------------------------------------------------------------------


def _append_ledger(
    session: Session, leads: LeadRows, scores: bulk.BulkScores, now: datetime, cause: str
) -> int:
    """One ledger entry per lead whose total moved."""
    changed = np.flatnonzero(scores.total != leads.total)
    deltas = {
        "lead_id": leads.ids[changed].tolist(),
        "delta_total": bulk.round_points(scores.total[changed] - leads.total[changed]).tolist(),
    }
    # The rest of each entry is what write_lead_scores has just stored.
    rescoring.append_ledger_of_leads(session, deltas, at=now, cause=cause)
    return len(changed)


def _rescore_accounts(
    session: Session,
    playbook: Playbook,
    leads: LeadRows,
    scores: bulk.BulkScores,
    now: datetime,
    *,
    subset: list[int] | None,
    also: list[int],
) -> int:
    """Fit of each account plus its buying group's engagement (all of its leads): every
    account, or with a subset of leads their accounts and `also` (accounts they left)."""
    paths = sorted({p for rule in account_only(playbook).fit.rules for p in rule.fields()})
    selection = rescore_leads.selection(playbook, paths)
    affected = None
    if subset is not None:
        at = leads.account_ids[leads.account_ids >= 0]
        affected = np.unique(np.concatenate([at, np.asarray(also, np.int64)]))
    if affected is not None and not len(affected):
        return 0
    raw = rescoring_reads.read_accounts(
        session,
        selection.account_fields,
        selection.account_attributes,
        None if affected is None else affected.tolist(),
    )
    ids = np.fromiter(raw["id"], np.int64, len(raw["id"]))
    coded = {name: rescore_leads.encoded(values) for name, values in raw.items()}
    tiers = rescore_leads.tiers(playbook, coded["domain"])
    columns = {
        p: tiers if p == "account.tier" else rescore_leads.account_column(coded, p) for p in paths
    }
    if subset is None:
        owners, engagement = leads.account_ids, scores.engagement
    else:
        group = rescoring_reads.lead_engagement(session, ids.tolist())
        owners = np.array(group["account_id"], np.int64)
        engagement = np.array(group["engagement"], np.float64)
    owner = index_of(ids)(owners)
    result = bulk.score_accounts(
        playbook, bulk.LeadColumns(len(ids), columns, tiers), owner, engagement
    )
    written = {
        "id": ids.tolist(),
        "fit": result.fit.tolist(),
        "engagement": result.engagement.tolist(),
        "total": result.total.tolist(),
        "engaged_leads": result.engaged.tolist(),
        "tier": [tiers.values[c] for c in tiers.codes.tolist()],
    }
    rescoring.write_account_scores(session, written, now)
    return len(ids)
