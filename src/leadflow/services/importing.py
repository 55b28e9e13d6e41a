"""Importing leads, accounts and events from files: all rows valid, or nothing written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from leadflow.core.company_match import Verdict
from leadflow.core.errors import Invalid
from leadflow.core.plural import counted
from leadflow.core.privacy import key_hash
from leadflow.core.records import AccountRecord, EventRecord, LeadRecord
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import claims, people
from leadflow.repositories import events as event_repo
from leadflow.repositories import external_ids as external_id_repo
from leadflow.repositories import leads as lead_repo
from leadflow.services import reps
from leadflow.services.companies import (
    business_domain,
    company_domain,
    domain_verdict,
    name_verdicts,
)
from leadflow.services.files import Entry, RowError

RecordT = TypeVar("RecordT", bound=BaseModel)


@dataclass
class ImportReport:
    """What an import read, wrote and refused."""

    kind: str
    rows: int = 0
    imported: int = 0
    problems: list[str] = field(default_factory=list)
    touched_lead_ids: list[int] = field(default_factory=list)
    # Accounts to roll up besides those the touched leads are at: ones they were at before
    # the import (a lead may have moved), ones the import wrote (their facts changed).
    touched_account_ids: list[int] = field(default_factory=list)
    # Rows about erased people (tombstones) or do-not-track leads' events: not imported.
    suppressed: int = 0
    # Events dated after the import: dated at it, as the tracking API dates them at receipt
    # (an event cannot have happened in the future, and scoring ignores future events).
    dated_at_import: int = 0
    # What was imported but deserves a word, by line (an account owner who is no rep).
    notes: list[str] = field(default_factory=list)


class ImportRejected(Invalid):
    """Bad rows and no --skip-invalid: nothing was imported."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        shown = "\n".join(problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{counted(len(problems), f'bad {kind} row')}; nothing imported "
            f"(fix them, or pass --skip-invalid to import the good rows):\n{shown}{more}"
        )
        self.problems = problems


def _reason(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "row"
        parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def validate_rows(
    kind: str, rows: Iterable[Entry], model: type[RecordT], skip_invalid: bool
) -> tuple[list[RecordT], ImportReport]:
    """Validate every row; bad rows are listed by line, and refuse the file unless skipped."""
    good, report = validate_lines(kind, rows, model, skip_invalid)
    return [record for _, record in good], report


def validate_lines(
    kind: str, rows: Iterable[Entry], model: type[RecordT], skip_invalid: bool
) -> tuple[list[tuple[int, RecordT]], ImportReport]:
    """`validate_rows`, each good record with its line."""
    report = ImportReport(kind)
    good: list[tuple[int, RecordT]] = []
    for line, data in rows:
        report.rows += 1
        if isinstance(data, RowError):  # unreadable: listed, and the rows after it still read
            report.problems.append(data.message)
            continue
        try:
            good.append((line, model.model_validate(data)))
        except ValidationError as exc:
            report.problems.append(f"line {line}: {_reason(exc)}")
    if report.problems and not skip_invalid:
        raise ImportRejected(kind, report.problems)
    return good, report


def _account_rows(
    records: Iterable[LeadRecord], domains: Iterable[str | None], now: datetime
) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for record, domain in zip(records, domains, strict=True):
        if domain is None or domain in found:
            continue
        found[domain] = {
            "domain": domain,
            "name": record.company or domain,
            "employees": record.employees,
            "industry": record.industry,
            "created_at": now,
            "updated_at": now,
        }
    return list(found.values())


def import_leads(
    session: Session, rows: Iterable[Entry], *, skip_invalid: bool, now: datetime
) -> ImportReport:
    """Upsert leads by e-mail, and their accounts by company domain."""
    records, report = validate_rows("lead", rows, LeadRecord, skip_invalid)
    companies = [_company_of(r) for r in records]
    # As tracking does before it makes a lead: a merge folding an address in, or an erasure
    # burying one, is waited for, so the tombstones are read after.
    claims.claim_people(
        session, emails=[r.email for r in records], domains=[c for c in companies if c]
    )
    kept = _not_erased(session, records, report)
    if len(kept) < len(records):
        wanted = set(map(id, kept))
        companies = [c for r, c in zip(records, companies, strict=True) if id(r) in wanted]
        records = kept
    # Where the leads are before: a lead the file moves leaves an account to roll up again.
    before = lead_repo.account_ids_by_email(session, [r.email for r in records])
    accounts = _account_rows(records, companies, now)
    # Accounts whose empty columns the file fills in: their other people's facts change too.
    filled = account_repo.filled_in(session, accounts)
    account_repo.upsert_many(session, accounts, fill_only=True)
    domains = account_repo.ids_by_domain(session)
    by_name = name_verdicts(session, [r.company for r, c in zip(records, companies, strict=True)
                                      if c is None])  # fmt: skip
    lead_rows = [
        {
            **_match_columns(r, company, domains, by_name),
            "email": r.email,
            "first_name": r.first_name,
            "last_name": r.last_name,
            "title": r.title,
            "phone": r.phone,
            "country": r.country,
            "source": r.source,
            "medium": r.medium,
            "campaign": r.campaign,
            "attributes": r.extra_attributes(),
            "created_at": now,
            "updated_at": now,
        }
        for r, company in zip(records, companies, strict=True)
    ]
    report.imported = lead_repo.upsert_many(session, lead_rows)
    lead_ids = lead_repo.ids_by_email(session, [r.email for r in records])
    colleagues = lead_repo.ids_at_accounts(session, filled)
    report.touched_lead_ids = list(dict.fromkeys([*lead_ids.values(), *colleagues]))
    report.touched_account_ids = sorted(before)
    _keep_external_ids(session, records, lead_ids)
    return report


def _match_columns(
    record: LeadRecord,
    domain: str | None,
    domains: dict[str, int],
    by_name: dict[str, Verdict],
) -> dict[str, Any]:
    """The lead's account and how it was matched: by domain, else by company name (a name
    that is ambiguous links nothing but says why); nothing known keeps what is stored."""
    verdict = domain_verdict(domain, given=bool(record.domain or record.website))
    account_id = domains.get(domain or "")
    if verdict is None and record.company:
        verdict = by_name.get(record.company)
        account_id = verdict.account_id if verdict is not None else None
    if verdict is None:
        return {"account_id": None}
    return {"account_id": account_id, "account_confidence": verdict.confidence,
            "account_reason": verdict.reason}  # fmt: skip


def _email_match(domain: str | None) -> dict[str, Any]:
    verdict = domain_verdict(domain, given=False)
    if verdict is None:
        return {}
    return {"account_confidence": verdict.confidence, "account_reason": verdict.reason}


def _keep_external_ids(
    session: Session, records: Iterable[LeadRecord], lead_ids: dict[str, int]
) -> None:
    """Store the rows' CRM record ids; when two rows carry one id, the later row wins."""
    holder: dict[tuple[str, str], int] = {}
    for record in records:
        lead_id = lead_ids.get(record.email)
        for system, external_id in record.external_ids().items():
            if lead_id is not None:
                holder[(system, external_id)] = lead_id
    # One id per lead and system: the last id a lead was given in the file.
    by_lead = {(lead_id, system): x for (system, x), lead_id in holder.items()}
    external_id_repo.link(session, [(i, s, x) for (i, s), x in by_lead.items()])


def _company_of(record: LeadRecord) -> str | None:
    """The lead's company domain (given, from the website, else a business e-mail's), folded."""
    if record.domain or record.website:
        return company_domain(record.domain) or company_domain(record.website)
    return business_domain(record.email)


def claim_leads(session: Session, emails: list[str]) -> dict[str, str | None]:
    """Claim these addresses and their business domains, as `import_leads` does; the domain
    of each address."""
    domains = {e: business_domain(e) for e in emails}
    claims.claim_people(session, emails=emails, domains={d for d in domains.values() if d})
    return domains


def ensure_leads(
    session: Session, emails: list[str], domains: dict[str, str | None], now: datetime
) -> None:
    """Create leads not seen before (their names claimed: `claim_leads`, which gave their
    domains), each linked to its company's account by e-mail domain."""
    business = sorted({d for e in emails if (d := domains[e])})
    account_repo.upsert_many(
        session,
        [{"domain": d, "name": d, "created_at": now, "updated_at": now} for d in business],
        fill_only=True,
    )
    account_ids = account_repo.ids_by_domain(session)
    rows = [
        {
            "email": email,
            "account_id": account_ids.get(domains[email] or ""),
            **_email_match(domains[email]),
            "created_at": now,
            "updated_at": now,
        }
        for email in emails
    ]
    lead_repo.upsert_many(session, rows, fill_only=True)


def import_accounts(
    session: Session, rows: Iterable[Entry], *, skip_invalid: bool, now: datetime
) -> ImportReport:
    """Upsert accounts by company domain; their leads are the ones to re-score. An owner no
    rep has as e-mail is kept (the rep may come later) and noted by line: routing, which
    reads the owner at each hand-off, finds no rep by it until then."""
    lines, report = validate_lines("account", rows, AccountRecord, skip_invalid)
    records = [record for _, record in lines]
    account_rows = [
        {
            **r.model_dump(exclude=set(r.model_extra or {})),
            "domain": company_domain(r.domain) or r.domain,
            "attributes": r.extra_attributes(),
            "created_at": now,
            "updated_at": now,
        }
        for r in records
    ]
    # A new account needs a name: the one a row of the file gives it, else its domain (as
    # the API names one). A known account keeps its own.
    known = account_repo.ids_by_domain(session, [row["domain"] for row in account_rows])
    named = {row["domain"]: row["name"] for row in account_rows if row["name"]}
    for row in account_rows:
        if row["name"] is None and row["domain"] not in known:
            row["name"] = named.get(row["domain"], row["domain"])
    report.notes = _owners_no_rep(session, [line for line, _ in lines], account_rows)
    report.imported = account_repo.upsert_many(session, account_rows)
    written = account_repo.ids_by_domain(session, [row["domain"] for row in account_rows])
    report.touched_account_ids = sorted(set(written.values()))
    report.touched_lead_ids = lead_repo.ids_at_accounts(session, report.touched_account_ids)
    return report


NOTES_SHOWN = 50  # as many as a refused file lists


def _owners_no_rep(session: Session, lines: list[int], rows: list[dict[str, Any]]) -> list[str]:
    """A note per row whose owner no rep has as e-mail (the first NOTES_SHOWN, then a count)."""
    said = reps.owner_notes(session, [(row["owner"], row["domain"]) for row in rows])
    notes = [f"line {line}: {note}" for line, note in zip(lines, said, strict=True) if note]
    if len(notes) > NOTES_SHOWN:
        more = len(notes) - NOTES_SHOWN
        notes = [*notes[:NOTES_SHOWN], f"... and {counted(more, 'more row')} whose owner is no rep"]
    return notes


def _not_erased(session: Session, records: list[RecordT], report: ImportReport) -> list[RecordT]:
    """The records whose e-mail is not an erased person's (a tombstone's hash)."""
    if not people.anyone_erased(session):  # most databases: no hash to compute per row
        return records
    emails = [str(getattr(r, "email", "") or "") for r in records]
    buried = people.tombstoned(session, {key_hash(e) for e in emails if e})
    if not buried:
        return records
    kept = [r for r, e in zip(records, emails, strict=True) if not e or key_hash(e) not in buried]
    report.suppressed += len(records) - len(kept)
    return kept


def message_id_for(record: EventRecord) -> str:
    """A stable id for an event without one, so importing a file twice counts it once."""
    if record.message_id:
        return record.message_id
    payload: list[Any] = [record.email, record.type, record.name, record.timestamp.isoformat()]
    payload.append(record.properties)
    text = json.dumps(payload, sort_keys=True, default=str)
    return "import-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def import_events(
    session: Session,
    rows: Iterable[Entry],
    *,
    skip_invalid: bool,
    now: datetime,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store events for leads by e-mail (creating unknown leads), skipping ones already seen."""
    records, report = validate_rows("event", rows, EventRecord, skip_invalid)
    domains = claim_leads(session, sorted({r.email for r in records}))
    records = _not_erased(session, records, report)  # after the claim, as `import_leads`
    emails = sorted({r.email for r in records})
    ensure_leads(session, emails, domains, now)
    ids = lead_repo.ids_by_email(session, emails)
    untracked = people.do_not_track(session, ids.values())
    if untracked:
        kept = [r for r in records if ids[r.email] not in untracked]
        report.suppressed += len(records) - len(kept)
        records = kept
    event_rows = [
        {
            "lead_id": ids[r.email],
            "source": "import",
            "message_id": message_id_for(r),
            "type": r.type,
            "name": r.name,
            "properties": r.properties,
            "context": r.context,
            "occurred_at": min(r.timestamp, now),
            "received_at": now,
        }
        for r in records
    ]
    report.dated_at_import = sum(r.timestamp > now for r in records)
    report.imported = event_repo.insert_many(session, event_rows)
    report.touched_lead_ids = sorted(set(ids.values()))
    if on_progress:
        on_progress(report.rows)
    return report
