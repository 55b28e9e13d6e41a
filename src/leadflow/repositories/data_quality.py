"""The data-quality report's counts over the cohort's leads, in two narrow passes: the lead
columns (and bad e-mail addresses) from the covering index `ix_leads_quality`, not the wide
rows; the account columns from the leads counted per account, each account read once, not
once per lead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from leadflow.core.report_math import Cohort
from leadflow.models.account import Account
from leadflow.models.lead import Lead
from leadflow.repositories.report_sql import in_cohort


def bad_email() -> ColumnElement[bool]:
    """No e-mail, or not shaped like an address."""
    return or_(
        Lead.email.is_(None),
        Lead.email.not_like("%_@_%._%"),
        Lead.email.like("% %"),
        Lead.email.like("%@%@%"),
    )


@dataclass(frozen=True, slots=True)
class Missing:
    """The cohort's size, leads missing each field, and leads with a bad e-mail."""

    size: int
    fields: dict[str, int]
    bad_emails: int


def missing_fields(
    session: Session,
    cohort: Cohort,
    lead_columns: Sequence[str],
    attributes: Sequence[str],
    account_columns: Sequence[str],
) -> Missing:
    """How many cohort leads lack each field scoring reads (and have a bad e-mail)."""
    counts: list[ColumnElement[Any]] = [func.count(), _count_where(bad_email())]
    for name in lead_columns:
        counts.append(_count_where(getattr(Lead, name).is_(None)))
    for name in attributes:
        counts.append(_count_where(Lead.attributes[name].as_string().is_(None)))
    row = session.execute(select(*counts).select_from(Lead).where(in_cohort(cohort))).one()
    names = [*lead_columns, *attributes]
    fields = {name: int(v or 0) for name, v in zip(names, row[2:], strict=True)}
    fields.update(_missing_on_accounts(session, cohort, account_columns))
    return Missing(int(row[0]), fields, int(row[1] or 0))


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _missing_on_accounts(
    session: Session, cohort: Cohort, columns: Sequence[str]
) -> dict[str, int]:
    """Cohort leads whose account (none counts as missing) lacks each column: the leads
    counted per account first, then each account's columns read once."""
    if not columns:
        return {}
    per_account = (
        select(Lead.account_id, func.count().label("n"))
        .where(in_cohort(cohort))
        .group_by(Lead.account_id)
        .subquery()
    )
    sums = [
        func.sum(case((getattr(Account, name).is_(None), per_account.c.n), else_=0))
        for name in columns
    ]
    query = (
        select(*sums)
        .select_from(per_account)
        .outerjoin(Account, Account.id == per_account.c.account_id)
    )
    row = session.execute(query).one()
    return {f"account.{name}": int(v or 0) for name, v in zip(columns, row, strict=True)}
