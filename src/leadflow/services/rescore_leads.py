"""Leads for a re-score: their facts as encoded columns, and the scores they have stored.

Each fact comes from where `core.facts` says (the live path's `lead_facts` holds the same
values). A full re-score of SQLite reads Arrow columns from a child process, dictionary-
encoded without a Python object per row; otherwise (PostgreSQL, a listed subset, a playbook
that needs whole rows) rows through the driver, encoded the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from leadflow.core import bulk
from leadflow.core.bulk_columns import Coded, Encoder, FloatArray, IntArray
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
from leadflow.repositories import rescoring_reads
from leadflow.repositories.rescoring_reads import LeadSelection

ObjectArray = npt.NDArray[np.object_]
_STORED = ("grade", "persona")
_MISSING_BITS = 0x7FF8_DEAD_BEEF_0001  # a NaN: SQLite never returns one, so it marks NULL


@dataclass(frozen=True)
class StoredScores:
    """What each lead has stored now: to write back only what a re-score changes."""

    fit: FloatArray
    engagement: FloatArray
    total: FloatArray
    grade: ObjectArray
    persona: ObjectArray
    contributions: Any  # an Arrow string array of JSON texts
    score_band: IntArray


@dataclass(frozen=True)
class LeadRows:
    """Leads by id: their account (-1: none), fact columns and stored scores."""

    ids: IntArray
    account_ids: IntArray
    columns: bulk.LeadColumns
    stored: StoredScores

    @property
    def total(self) -> FloatArray:
        """The stored totals (the ledger's "before")."""
        return self.stored.total


@dataclass(frozen=True)
class _Raw:
    """What was read: encoded columns by name, numbers as arrays, whole rows if asked for."""

    coded: dict[str, Coded]
    numbers: dict[str, npt.NDArray[Any]]
    contributions: Any
    rows: dict[str, list[Any]]


def encoded(values: Sequence[Any]) -> Coded:
    """Values dictionary-encoded, as the core tells them apart (1, 1.0 and True differ)."""
    encoder = Encoder()
    return encoder.coded(encoder.encode(values))


def decoded(texts: Coded) -> Coded:
    """A column of JSON texts as the values they hold, decoded once per distinct text."""
    return Coded(texts.codes, [None if t is None else json.loads(t) for t in texts.values])


def selection(playbook: Playbook, paths: Iterable[str]) -> LeadSelection:
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


def tiers(playbook: Playbook, domains: Coded) -> Coded:
    """Each row's tier id (None: no tier), from its account's domain."""
    found = [playbook.tier_of(d) for d in domains.values]
    return Coded(domains.codes, [t.id if t else None for t in found])


def account_column(raw: dict[str, Coded], path: str) -> Coded:
    """`account.F`: a column of the account, or its declared custom attribute."""
    name = path.removeprefix("account.")
    if name in ACCOUNT_COLUMNS:
        return raw[path]
    return decoded(raw[f"account_attribute.{name}"])


def _patched(base: Coded, texts: Coded, value: Callable[[Any], Any]) -> Coded:
    """`base`, but `value(JSON value)` where `texts` holds a JSON text (the SQL gives one only
    where the base is NULL), each distinct text decoded once."""
    given = np.array([t is not None for t in texts.values] or [False])[texts.codes]
    rows = np.flatnonzero(given)
    if not len(rows):
        return base
    used, inverse = np.unique(texts.codes[rows], return_inverse=True)
    codes = base.codes.copy()
    codes[rows] = len(base.values) + inverse.reshape(-1)
    extra = [value(json.loads(texts.values[c])) for c in used.tolist()]
    return Coded(codes, [*base.values, *extra])


def _email_domains(raw: dict[str, Coded]) -> Coded:
    """`email_domain` of each lead: per distinct tail, and from the attribute where no e-mail."""
    tails = raw["email_tail"]
    domains = Coded(
        tails.codes, [None if t is None else email_domain("@" + t) for t in tails.values]
    )
    return _patched(domains, raw["email?"], email_domain)


def _whole_column(playbook: Playbook, raw: _Raw, path: str) -> Coded:
    """Any other path, read the slow and sure way: the lead's full facts, then `lookup`."""
    return encoded(
        [
            lookup(facts_of(playbook, lead, account), path)
            for lead, account in zip(raw.rows["lead"], raw.rows["account"], strict=True)
        ]
    )


def _fact_column(playbook: Playbook, raw: _Raw, path: str, tier: Coded) -> Coded:
    """One fact of every lead, read from where `core.facts` says it comes from."""
    fact = resolve(path, playbook.custom_fields, playbook.account_custom_fields)
    if fact is None or fact.nested:
        return _whole_column(playbook, raw, path)
    if fact.source is Source.EMAIL_DOMAIN:
        return _email_domains(raw.coded)
    if fact.source is Source.ACCOUNT_TIER:
        return tier
    if fact.source is Source.LEAD_COLUMN:  # its attribute where NULL, if it may have one
        fallback = raw.coded.get(f"lead.{path}?")
        column = raw.coded[f"lead.{path}"]
        return column if fallback is None else _patched(column, fallback, lambda v: v)
    if fact.source is Source.LEAD_ATTRIBUTE:
        return decoded(raw.coded[f"attribute.{path}"])
    return account_column(raw.coded, path)


def read_leads(session: Session, playbook: Playbook, lead_ids: list[int] | None) -> LeadRows:
    """The leads (all, or these) with the facts the playbook's fit and personas read."""
    paths = lead_paths(playbook)
    wanted = selection(playbook, paths)
    raw = (_arrow_raw(session, wanted) if lead_ids is None else None) or _row_raw(
        session, wanted, lead_ids
    )
    tier = tiers(playbook, raw.coded["domain"])
    facts = {path: _fact_column(playbook, raw, path, tier) for path in paths}
    size = len(raw.numbers["id"])
    stored = StoredScores(
        fit=raw.numbers["fit"],
        engagement=raw.numbers["engagement"],
        total=raw.numbers["total"],
        grade=_objects(raw.coded["grade"]),
        persona=_objects(raw.coded["persona"]),
        contributions=raw.contributions,
        score_band=raw.numbers["score_band"],
    )
    return LeadRows(
        ids=raw.numbers["id"],
        account_ids=raw.numbers["account_id"],
        columns=bulk.LeadColumns(size, facts, tier),
        stored=stored,
    )


def _objects(column: Coded) -> ObjectArray:
    values: ObjectArray = np.array([*column.values, None], dtype=object)[:-1]
    return values[column.codes] if len(values) else np.full(len(column.codes), None, object)


def _row_raw(session: Session, wanted: LeadSelection, lead_ids: list[int] | None) -> _Raw:
    import pyarrow as pa

    columns = dict(rescoring_reads.read_leads(session, wanted, lead_ids))
    rows: dict[str, list[Any]] = {
        k: list(columns.pop(k)) for k in ("lead", "account") if k in columns
    }
    account = [-1 if a is None else a for a in columns.pop("account_id")]
    numbers: dict[str, npt.NDArray[Any]] = {"account_id": np.array(account, np.int64)}
    numbers["id"] = np.array(columns.pop("id"), np.int64)
    numbers["score_band"] = np.array(columns.pop("score_band"), np.int64)
    for name in ("total", "fit", "engagement"):
        numbers[name] = np.array(columns.pop(name), np.float64)
    contributions = pa.array(columns.pop("contributions"), pa.large_string())
    coded = {name: encoded(values) for name, values in columns.items()}
    return _Raw(coded, numbers, contributions, rows)


def _arrow_raw(session: Session, wanted: LeadSelection) -> _Raw | None:
    columns = rescoring_reads.read_leads_arrow(session, wanted)
    if columns is None:
        return None
    numbers: dict[str, npt.NDArray[Any]] = {
        "id": _numbers(columns.pop("id"), np.int64),
        "account_id": _numbers(columns.pop("account_id"), np.int64, missing=-1),
        "score_band": _numbers(columns.pop("score_band"), np.int64),
    }
    for name in ("total", "fit", "engagement"):
        numbers[name] = _numbers(columns.pop(name), np.float64)
    contributions = columns.pop("contributions")
    coded = {name: arrow_coded(array) for name, array in columns.items()}
    return _Raw(coded, numbers, contributions, {})


def _numbers(array: Any, dtype: Any, missing: int = 0) -> npt.NDArray[Any]:
    """An Arrow column of numbers as a NumPy array (NULL as `missing`)."""
    import pyarrow as pa

    if pa.types.is_null(array.type) or array.null_count == len(array):
        return np.full(len(array), missing, dtype)
    return np.asarray(array.fill_null(missing).to_numpy(zero_copy_only=False), dtype)


def arrow_coded(array: Any) -> Coded:
    """An Arrow column dictionary-encoded, its values as the driver gives them (None: NULL).

    Floats are told apart by their bits (as `Encoder` keeps 0.0 and -0.0 apart)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(array.type):
        bits = np.asarray(array.fill_null(0.0).to_numpy(zero_copy_only=False), np.float64)
        keys = bits.view(np.int64).copy()
        keys[np.asarray(array.is_null().to_numpy(zero_copy_only=False), bool)] = _MISSING_BITS
        distinct, inverse = np.unique(keys, return_inverse=True)
        values = [
            None if k == _MISSING_BITS else v
            for k, v in zip(distinct.tolist(), distinct.view(np.float64).tolist(), strict=True)
        ]
        return Coded(inverse.reshape(-1).astype(np.int64), values)
    encoded_array = pc.dictionary_encode(array, null_encoding="encode")
    codes = np.asarray(encoded_array.indices.to_numpy(zero_copy_only=False), np.int64)
    return Coded(codes, encoded_array.dictionary.to_pylist())
