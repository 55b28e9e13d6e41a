"""Re-score leads in bulk: columns out of SQL, `core.bulk` in memory, scores back in batches.

The numbers are the per-lead core's (`core.bulk` guarantees it); this module only turns rows
into the columns the core reads, from where `core.facts` says each fact comes from (the live
path's `lead_facts` holds the same values) and as `EventFacts.as_facts` shapes events,
and writes the results back in one transaction that the caller commits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from leadflow.core import bulk
from leadflow.core.accounts import account_only
from leadflow.core.bulk_columns import Coded, Encoder, FloatArray, IntArray, index_of
from leadflow.core.conditions import lookup
from leadflow.core.facts import (
    ACCOUNT_COLUMNS,
    Source,
    email_domain,
    facts_of,
    lead_paths,
    resolve,
)
from leadflow.core.playbook import Playbook
from leadflow.repositories import rescoring, rule_state
from leadflow.repositories.rescoring import Columns, LeadSelection
from leadflow.services import rescore_events

Progress = Callable[[str], None]


@dataclass
class RescoreResult:
    """How many leads and events were scored, how long it took, and where the time went."""

    leads: int
    events: int
    seconds: float
    changed: int = 0
    accounts: int = 0
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Leads:
    ids: IntArray
    total: FloatArray
    account_ids: list[int | None]
    columns: bulk.LeadColumns


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
    cause: str = "rescore",
) -> RescoreResult:
    """Score every lead (or those listed) at `now`, update their accounts; the caller commits."""
    started = time.perf_counter()
    clock = _Clock(progress)
    wanted = None if lead_ids is None else sorted(set(lead_ids))
    if wanted and not all(type(i) is int for i in wanted):
        raise TypeError(f"lead_ids must be lead ids (int), not e.g. {wanted[0]!r}")
    with rescoring.bulk_reads(session):
        result = _rescore(session, playbook, now, clock, wanted, cause)
    result.seconds = time.perf_counter() - started
    return result


def _rescore(
    session: Session,
    playbook: Playbook,
    now: datetime,
    clock: _Clock,
    wanted: list[int] | None,
    cause: str,
) -> RescoreResult:
    with clock("read leads"):
        leads = _read_leads(session, playbook, wanted)
    with clock("read events"):
        events = _read_events(session, playbook, leads.ids, wanted)
    with clock("score"):
        scores = bulk.score_leads(playbook, leads.columns, events, now)
    with rescoring.bulk_writes(session):
        with clock("write leads"):
            columns = _score_columns(leads, scores)
            rescoring.write_lead_scores(session, columns, now, every_lead=wanted is None)
        with clock("write ledger"):
            changed = _append_ledger(session, leads, scores, now, cause)
        with clock("accounts"):
            accounts = _rescore_accounts(session, playbook, leads, scores, now, subset=wanted)
            rule_state.forget_rollups_of(session, wanted)  # live roll-ups recount these once
    return RescoreResult(
        leads=len(leads.ids),
        events=len(events.lead),
        seconds=0.0,
        changed=changed,
        accounts=accounts,
        phases=clock.phases,
    )


# --- columns out ------------------------------------------------------------------------------


def _encoded(values: Sequence[Any]) -> Coded:
    encoder = Encoder()
    return encoder.coded(encoder.encode(values))


def _decoded(texts: Sequence[str | None]) -> Coded:
    """JSON texts as the values they hold, decoded once per distinct text."""
    coded = _encoded(texts)
    return Coded(coded.codes, [None if t is None else json.loads(t) for t in coded.values])


def _selection(playbook: Playbook, paths: Iterable[str]) -> LeadSelection:
    """What to read for these paths, by where `core.facts` says each one comes from."""
    lead_fields, lead_attributes, account_fields, account_attributes = set(), set(), set(), set()
    email = whole = False
    for path in paths:
        fact = resolve(path, playbook.custom_fields, playbook.account_custom_fields)
        if fact is None or fact.nested:  # read the slow and sure way: the whole rows
            whole = True
        elif fact.source is Source.EMAIL_DOMAIN:
            email = True
        elif fact.source is Source.LEAD_COLUMN:
            lead_fields.add(fact.name)
        elif fact.source is Source.LEAD_ATTRIBUTE:
            lead_attributes.add(fact.name)
        elif fact.source is Source.ACCOUNT_COLUMN:
            account_fields.add(fact.name)
        elif fact.source is Source.ACCOUNT_ATTRIBUTE:
            account_attributes.add(fact.name)
        # the tier comes from the playbook's tiers, by the account's domain
    return LeadSelection(
        sorted(lead_fields),
        sorted(lead_attributes),
        sorted(account_fields),
        sorted(account_attributes),
        email,
        whole,
    )


def _lead_field(raw: Columns, name: str) -> list[Any]:
    """A lead column; where it is NULL the core reads the lead's attribute of that name."""
    values = list(raw[f"lead.{name}"])
    for i, text in enumerate(raw[f"lead.{name}?"]):
        if text is not None and values[i] is None:
            values[i] = json.loads(text)
    return values


def _email_domains(raw: Columns) -> Coded:
    """`email_domain` of each lead: per distinct tail, and from the attribute where no e-mail."""
    tails = _encoded(raw["email_tail"])
    values = [None if t is None else email_domain("@" + t) for t in tails.values]
    codes = tails.codes
    for i, text in enumerate(raw["email?"]):
        if text is not None:
            codes[i] = len(values)
            values.append(email_domain(json.loads(text)))
    return Coded(codes, values)


def _tiers(playbook: Playbook, domains: Sequence[str | None]) -> Coded:
    coded = _encoded(domains)
    tiers = [playbook.tier_of(d) for d in coded.values]
    return Coded(coded.codes, [t.id if t else None for t in tiers])


def _account_column(raw: Columns, path: str) -> Coded:
    name = path.removeprefix("account.")
    if name in ACCOUNT_COLUMNS:
        return _encoded(raw[path])
    return _decoded(raw[f"account_attribute.{name}"])


def _whole_column(playbook: Playbook, raw: Columns, path: str) -> Coded:
    """Any other path, read the slow and sure way: the lead's full facts, then `lookup`."""
    return _encoded(
        [
            lookup(facts_of(playbook, lead, account), path)
            for lead, account in zip(raw["lead"], raw["account"], strict=True)
        ]
    )


def _fact_column(playbook: Playbook, raw: Columns, path: str, tiers: Coded) -> Coded:
    """One fact of every lead, read from where `core.facts` says it comes from."""
    fact = resolve(path, playbook.custom_fields, playbook.account_custom_fields)
    if fact is None or fact.nested:
        return _whole_column(playbook, raw, path)
    if fact.source is Source.EMAIL_DOMAIN:
        return _email_domains(raw)
    if fact.source is Source.ACCOUNT_TIER:
        return tiers
    if fact.source is Source.LEAD_COLUMN:
        return _encoded(_lead_field(raw, path))
    if fact.source is Source.LEAD_ATTRIBUTE:
        return _decoded(raw[f"attribute.{path}"])
    return _account_column(raw, path)


def _read_leads(session: Session, playbook: Playbook, lead_ids: list[int] | None) -> _Leads:
    paths = lead_paths(playbook)
    raw = rescoring.read_leads(session, _selection(playbook, paths), lead_ids)
    tiers = _tiers(playbook, raw["domain"])
    facts = {path: _fact_column(playbook, raw, path, tiers) for path in paths}
    size = len(raw["id"])
    return _Leads(
        ids=np.fromiter(raw["id"], np.int64, size),
        total=np.fromiter(raw["total"], np.float64, size),
        account_ids=list(raw["account_id"]),
        columns=bulk.LeadColumns(size, facts, tiers),
    )


def _read_events(
    session: Session, playbook: Playbook, lead_ids: IntArray, wanted: list[int] | None
) -> bulk.EventColumns:
    paths = sorted(bulk.event_paths(playbook))
    where = [path.split(".") for path in paths]
    if wanted is None and (kinds := rescore_events.kind_columns(session, playbook, lead_ids)):
        return kinds
    texts = [Encoder(text=True) for _ in range(2 + len(where))]  # type, name, where...
    leads: list[IntArray] = []
    times: list[IntArray] = []
    codes: list[list[IntArray]] = [[] for _ in texts]
    position = index_of(lead_ids)
    for rows in rescoring.read_events(session, paths, lead_ids=wanted):
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


def _contributions_json(scores: bulk.BulkScores) -> list[str]:
    """Each lead's contributions as JSON text: [{"rule", "label", "kind", "points"}, ...].

    Points are hundredths, so each rule gives few distinct values: each is formatted once.
    """
    leads, columns, points = scores.sparse()
    entries = np.empty(len(points), dtype=object)
    for j, c in enumerate(scores.columns):
        head = f'{{"rule": {json.dumps(c.rule)}, "label": {json.dumps(c.label)}, '
        head += f'"kind": "{c.kind}", "points": '
        mine = columns == j
        values, inverse = np.unique(points[mine], return_inverse=True)
        texts = np.array([head + repr(v) + "}" for v in values.tolist()] or [""], dtype=object)
        entries[mine] = texts[inverse]
    return _json_lists(entries, leads, len(scores.fit))


def _json_lists(entries: npt.NDArray[np.object_], leads: IntArray, size: int) -> list[str]:
    """`[e1, e2, ...]` of each lead's entries (sorted by lead), in one join and one split.

    A control character never occurs in JSON text (json.dumps escapes them), so one (RS, not
    NUL: NumPy drops trailing NULs of strings) can end each lead's list inside one string.
    """
    bounds = np.searchsorted(leads, np.arange(size + 1))
    starts, ends = bounds[:-1], bounds[1:]
    given = starts < ends
    pieces = ", " + entries if len(entries) else entries
    pieces[starts[given]] = "[" + entries[starts[given]]
    pieces[ends[given] - 1] = pieces[ends[given] - 1] + "]\x1e"
    empty = np.flatnonzero(~given)
    pieces = np.insert(pieces, starts[empty], "[]\x1e")
    return "".join(pieces.tolist()).split("\x1e")[:size]


def _score_columns(leads: _Leads, scores: bulk.BulkScores) -> dict[str, Sequence[Any]]:
    return {
        "id": leads.ids.tolist(),
        "fit": scores.fit.tolist(),
        "engagement": scores.engagement.tolist(),
        "total": scores.total.tolist(),
        "grade": scores.grade.tolist(),
        "persona": scores.persona.tolist(),
        "contributions": _contributions_json(scores),
    }


def _append_ledger(
    session: Session, leads: _Leads, scores: bulk.BulkScores, now: datetime, cause: str
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
    leads: _Leads,
    scores: bulk.BulkScores,
    now: datetime,
    *,
    subset: list[int] | None,
) -> int:
    """Fit of each account plus its buying group's engagement (all of its leads)."""
    paths = sorted({p for rule in account_only(playbook).fit.rules for p in rule.fields()})
    selection = _selection(playbook, paths)
    affected = None if subset is None else sorted({a for a in leads.account_ids if a is not None})
    if affected == []:
        return 0
    raw = rescoring.read_accounts(
        session, selection.account_fields, selection.account_attributes, affected
    )
    ids = np.fromiter(raw["id"], np.int64, len(raw["id"]))
    tiers = _tiers(playbook, raw["domain"])
    columns = {p: tiers if p == "account.tier" else _account_column(raw, p) for p in paths}
    if subset is None:
        owners = [-1 if a is None else a for a in leads.account_ids]
        engagement = scores.engagement
    else:
        group = rescoring.lead_engagement(session, ids.tolist())
        owners, engagement = list(group["account_id"]), np.array(group["engagement"], np.float64)
    owner = index_of(ids)(np.array(owners, np.int64))
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
