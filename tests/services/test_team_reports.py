"""Speed to lead and the cracks, read as columns and text: each equals the straightforward
computation over the ORM's rows (kept here as the reference), at the buckets' edges, for
times with and without a fraction of a second, on both engines."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadflow.core.errors import Invalid
from leadflow.core.limits import MAX_DB_INT, MAX_REPORT_ROWS
from leadflow.core.playbook_text import parse_playbook
from leadflow.core.report_math import Cohort, Rate, percentiles
from leadflow.models import Assignment, Lead, Rep
from leadflow.repositories import fallen_through as cracks
from leadflow.repositories.report_sql import seconds_between
from leadflow.services.reports import team

BOOK = parse_playbook(
    (Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml").read_text()
)
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
START = datetime(2026, 9, 6, 9, 0, tzinfo=UTC)
# Minutes to the first touch: each bucket's edges, a fraction, and never touched (None).
WAITS = [0.0, 4.999, 5.0, 29.5, 30.0, 239.99, 240.0, 1439.0, 1440.0, 3000.0, None, 0.5]
STATUSES = ["met", "breached", "open", "closed"]


def _build(session: Session) -> None:
    ana = Rep(name="Ana", email="ana@x.example", team="enterprise")
    bo = Rep(name="Bo", email="bo@x.example", team="smb")
    session.add_all([ana, bo])
    session.flush()
    for k, wait in enumerate(WAITS * 3):
        rep = (ana, bo, None)[k % 3]
        since = START + timedelta(hours=k, microseconds=k % 2 * 250_001)  # with and without
        lead = Lead(email=f"l{k}@x.example", stage="sql" if k % 4 else "mql",
                    owner=None if k % 5 else "ana@x.example", stage_changed_at=since)  # fmt: skip
        session.add(lead)
        session.flush()
        touched = since + timedelta(minutes=wait) if wait is not None else None
        session.add(Assignment(
            lead_id=lead.id, rep_id=rep.id if rep else None,
            team=rep.team if rep else "inbound", stage="sql", reason="test",
            assigned_at=since, sla_due_at=since + timedelta(hours=4) if k % 7 else None,
            first_touch_at=touched, status=STATUSES[k % 4],
        ))  # fmt: skip
    session.flush()


def _bucket(minutes: float) -> str:
    return next((label for limit, label in team.BUCKETS if minutes < limit), "over 24 h")


def _speed_reference(session: Session) -> dict[str, Any]:
    """The row-by-row computation the columns replaced (minutes as SQL computes them)."""
    minutes = seconds_between(session, Assignment.first_touch_at, Assignment.assigned_at) / 60.0
    query = select(Rep.name, Assignment.team, Assignment.status, minutes)
    rows = session.execute(query.outerjoin(Rep, Rep.id == Assignment.rep_id)).all()
    handoffs = [(rep, t, s, float(m) if m is not None else None) for rep, t, s, m in rows]

    def compliance(key: Any, name: str) -> list[dict[str, Any]]:
        groups: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
        for rep, t, status, minutes in handoffs:
            groups[key(rep, t)].append((status, minutes))
        found = []
        for group, items in sorted(groups.items()):
            tally = Counter(s for s, _ in items)
            judged = Rate(tally["met"], tally["met"] + tally["breached"])
            waits = np.asarray([m for _, m in items if m is not None])
            found.append({
                name: group, "handoffs": len(items), "met": tally["met"],
                "breached": tally["breached"], "open": tally["open"],
                "compliance": judged.value, "small_sample": judged.small_sample,
                **{f"{k}_minutes": v for k, v in percentiles(waits).items()},
            })  # fmt: skip
        return found

    touched = [m for *_, m in handoffs if m is not None]
    counts = Counter(_bucket(m) for m in touched)
    labels = [label for _, label in team.BUCKETS] + ["over 24 h"]
    return {
        "rows": compliance(lambda rep, t: rep or "(queue)", "rep"),
        "teams": compliance(lambda rep, t: t, "team"),
        "distribution": [{"bucket": b, "handoffs": counts[b]} for b in labels]
        + [{"bucket": "not touched", "handoffs": len(handoffs) - len(touched)}],
        "overall": percentiles(np.asarray(touched)),
    }


def test_speed_to_lead_equals_the_row_by_row_computation(session: Session) -> None:
    _build(session)
    found = team.speed_to_lead(session, BOOK, Cohort(), START, NOW)
    expected = _speed_reference(session)
    assert {key: found[key] for key in expected} == expected
    assert all(type(row["handoffs"]) is int for row in found["rows"] + found["distribution"])


def test_cracks_print_times_as_the_stored_values_read(session: Session) -> None:
    _build(session)
    found = _whole(session)["rows"]
    leads = {lead.id: lead for lead in session.scalars(select(Lead))}
    latest = {a.lead_id: a for a in session.scalars(select(Assignment).order_by(Assignment.id))}
    assert found and any("." in row["since"] for row in found)
    assert any("." not in row["since"] for row in found)
    for row in found:
        lead, hand_off = leads[row["lead_id"]], latest[row["lead_id"]]
        due = hand_off.sla_due_at
        assert row["since"] == lead.stage_changed_at.isoformat()
        assert row["sla_due_at"] == (due.isoformat() if due else None)
        late = round((NOW - due).total_seconds() / 60, 1) if due and due < NOW else None
        assert row["minutes_late"] == late


def test_cracks_read_each_leads_latest_handoff(session: Session) -> None:
    """A lead handed off again is judged by its latest hand-off only (SQLite finds its id by a
    scalar subquery, PostgreSQL reads it as a LATERAL subquery): a breached hand-off followed
    by a touched one is no crack, a touched one followed by a breached one is."""
    _build(session)
    owned = list(session.scalars(
        select(Lead).where(Lead.owner.is_not(None), Lead.stage == "sql").order_by(Lead.id)
    ))  # fmt: skip
    assert len(owned) >= 2
    for k, lead in enumerate(owned[:2]):
        since = START + timedelta(days=1, minutes=k)
        session.add(Assignment(
            lead_id=lead.id, rep_id=None, team="inbound", stage="sql", reason="again",
            assigned_at=since, sla_due_at=since + timedelta(hours=4),
            first_touch_at=since + timedelta(minutes=3) if k == 0 else None,
            status="met" if k == 0 else "breached",
        ))  # fmt: skip
    session.flush()
    found = {row["lead_id"]: row for row in _whole(session)["rows"]}
    latest = {a.lead_id: a for a in session.scalars(select(Assignment).order_by(Assignment.id))}
    expected = {
        lead.id
        for lead in session.scalars(select(Lead).where(Lead.stage == "sql"))
        if lead.owner is None
        or (
            lead.id in latest
            and latest[lead.id].first_touch_at is None
            and latest[lead.id].sla_due_at is not None
            and latest[lead.id].sla_due_at < NOW
        )
    }
    assert set(found) == expected
    assert owned[0].id not in found and owned[1].id in found
    assert found[owned[1].id]["team"] == "inbound"
    assert found[owned[1].id]["sla_due_at"] == latest[owned[1].id].sla_due_at.isoformat()


def _whole(session: Session) -> dict[str, Any]:
    """Every crack on one page (the builds here have far fewer than a page may hold)."""
    whole = team.fallen_through(session, BOOK, Cohort(), NOW, limit=MAX_REPORT_ROWS)
    assert whole["total"] == len(whole["rows"]) < MAX_REPORT_ROWS
    return whole


@pytest.mark.parametrize("limit, offset", [(0, 0), (1, 0), (5, 0), (5, 3), (5, 9), (4, 1000)])
def test_cracks_pages_are_slices_of_the_whole_list_with_its_counts(
    session: Session, limit: int, offset: int
) -> None:
    """A page is the whole list's rows from `offset`, at most `limit` of them, in the same
    order (deadline, then id); the total and the count per problem are the whole list's."""
    _build(session)
    rows = _whole(session)["rows"]
    tally = Counter(row["problem"] for row in rows)
    assert tally["no owner"] and tally["no touch past the SLA"] and len(rows) > 9 + 5
    page = team.fallen_through(session, BOOK, Cohort(), NOW, limit=limit, offset=offset)
    assert page["rows"] == rows[offset : offset + limit]
    assert (page["total"], page["shown"]) == (len(rows), len(page["rows"]))
    assert (page["limit"], page["offset"]) == (limit, offset)
    assert page["by_problem"] == {
        "no owner": tally["no owner"], "no touch past the SLA": tally["no touch past the SLA"]
    }  # fmt: skip


def test_cracks_show_the_first_hundred_unless_asked(session: Session) -> None:
    """Without a limit the report shows the longest-waiting 100 and counts them all."""
    _build(session)
    since = START - timedelta(days=30)
    session.add_all(
        Lead(email=f"q{k}@x.example", stage="sql", owner=None, stage_changed_at=since)
        for k in range(120)
    )  # fmt: skip
    session.flush()
    rows = _whole(session)["rows"]
    shown = team.fallen_through(session, BOOK, Cohort(), NOW)
    assert len(rows) > team.CRACKS_SHOWN == 100
    assert shown["rows"] == rows[:100] and (shown["shown"], shown["total"]) == (100, len(rows))


@pytest.mark.parametrize(
    "limit, offset, wrong",
    [(-1, 0, "limit"), (MAX_REPORT_ROWS + 1, 0, "limit"), (10, -1, "offset"),
     (10, MAX_DB_INT + 1, "offset"), (True, 0, "limit"), (2.5, 0, "limit")],
)  # fmt: skip
def test_cracks_refuse_a_page_out_of_bounds(
    session: Session, limit: Any, offset: Any, wrong: str
) -> None:
    with pytest.raises(Invalid, match=f"^{wrong}: "):
        team.fallen_through(session, BOOK, Cohort(), NOW, limit=limit, offset=offset)


def _all_in_one_query(session: Session) -> list[tuple[Any, ...]]:
    """The straightforward read the page replaced (kept as the reference): every crack in one
    query, the database ordering them by deadline, then id."""
    handed = cracks._latest_handoffs(session)
    query = (
        select(*cracks._columns(session, handed))
        .select_from(Lead)
        .where(Lead.stage == "sql", or_(Lead.owner.is_(None), cracks._past_deadline(handed, NOW)))
    )
    query = cracks._joined(session, query, handed).order_by(handed.c.sla_due_at, Lead.id)
    return [tuple(row) for row in session.connection().execute(query)]


def test_cracks_pages_merge_owned_and_unowned_leads_as_the_database_orders_them(
    session: Session,
) -> None:
    """Owned leads past their deadline come between the unowned ones in deadline order, ties
    by id (one deadline shared by both kinds), unowned leads with no deadline where the
    engine sorts NULL: each page is the one query's rows from its offset."""
    _build(session)
    owned = list(session.scalars(select(Lead).where(Lead.owner.is_not(None), Lead.stage == "sql")))
    unowned_due = sorted(
        a.sla_due_at for a in session.scalars(select(Assignment)) if a.sla_due_at is not None
    )
    for k, lead in enumerate(owned):
        due = unowned_due[k] if k == 0 else lead.stage_changed_at + timedelta(hours=2)
        session.add(Assignment(
            lead_id=lead.id, rep_id=None, team="inbound", stage="sql", reason="again",
            assigned_at=due - timedelta(hours=4), sla_due_at=due, first_touch_at=None,
            status="breached",
        ))  # fmt: skip
    session.flush()
    everyone = _all_in_one_query(session)
    problems = Counter(row[3] is None for row in everyone)
    assert problems[True] and problems[False] > 3 and any(row[6] is None for row in everyone)
    for limit, offset in [(1, 0), (3, 0), (7, 2), (50, 0), (4, len(everyone) - 2), (0, 0)]:
        page = cracks.fallen_through(session, Cohort(), ["sql"], NOW, limit, offset)
        assert page.rows == everyone[offset : offset + limit], (limit, offset)
        assert (page.unowned, page.overdue) == (problems[True], problems[False])
