"""Merging a likely duplicate the data-quality report found."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from leadflow.core.errors import Conflict, Invalid, NotFound
from leadflow.core.lifecycle import MERGE_ACTOR, Action, Transition
from leadflow.core.playbook import Playbook
from leadflow.core.report_math import Cohort
from leadflow.core.stages import Stage
from leadflow.models import Assignment, Event, Lead, StageChange
from leadflow.repositories import events as event_repo
from leadflow.repositories import leads as lead_repo
from leadflow.repositories import reports as queries
from leadflow.services import (
    digest,
    importing,
    lead_edits,
    leads,
    lifecycle,
    merge,
    pipeline,
    playbooks,
    reports,
)
from leadflow.services.ingest.batch import ingest, parse_all
from tests.services import account_scenario
from tests.services.test_reports import NOW, day, playbook, session

__all__ = ["playbook", "session"]


def test_a_duplicate_folds_into_the_lead_kept(session: Session, playbook: Playbook) -> None:
    before = reports.run(session, playbook, "data_quality", Cohort(), reports.Options(), NOW)
    [pair] = before["duplicates"]  # Katherine (a@x.io, a customer) and Kate (g@x.io, an SQL)
    result = merge.merge_leads(session, playbook, "g@x.io", "a@x.io", actor="ana", now=NOW)
    assert result == {"kept": "g@x.io", "merged": "a@x.io", "events_moved": 3}
    kept = session.scalar(select(Lead).where(Lead.email == "g@x.io"))
    assert kept is not None and session.scalar(select(Lead).where(Lead.email == "a@x.io")) is None
    assert (kept.first_name, kept.title) == ("Kate", "VP Operations")  # own value kept, gap filled
    assert (kept.stage, kept.outcome, kept.outcome_amount) == ("customer", "won", 1000.0)
    history = leads.detail(session, "g@x.io", playbook, NOW)["stage_history"]
    assert history[-1]["reason"] == "merged with a@x.io, which was customer"
    assert history[-1]["actor"] == MERGE_ACTOR  # the merge's own row; ana's note says who
    events = session.scalar(select(func.count()).where(Event.lead_id == kept.id))
    assert events == 4  # three moved and the merge note
    handoffs = session.scalar(select(func.count()).where(Assignment.lead_id == kept.id))
    assert handoffs == 2
    after = reports.run(session, playbook, "data_quality", Cohort(), reports.Options(), NOW)
    assert after["duplicates"] == [] and pair
    funnel = reports.run(session, playbook, "funnel", Cohort(), reports.Options(), NOW)
    assert [r["reached"] for r in funnel["rows"]] == [6, 5, 4, 3, 2]  # two records, one person


def test_the_duplicates_address_names_the_lead_kept_on_every_path(
    session: Session, playbook: Playbook
) -> None:
    """Before: the duplicate's address went with its row, so nothing mapped it to the person
    and its next import row, event or POST made the duplicate again (a fresh score, maybe a
    second hand-off) while `leads show` of it was not found. Now it names the lead kept."""
    merge.merge_leads(session, playbook, "g@x.io", "a@x.io", actor="ana", now=NOW)
    kept = leads.find(session, "g@x.io")
    count = session.scalar(select(func.count()).select_from(Lead))
    assert leads.find(session, " A@X.io ") is kept
    assert leads.detail(session, "a@x.io", playbook, NOW)["email"] == "g@x.io"
    assert lead_repo.get_by_email(session, "a@x.io", lock=True) is kept
    assert lead_repo.ids_by_email(session, ["a@x.io", "g@x.io", "nobody@x.io"]) == {
        "a@x.io": kept.id, "g@x.io": kept.id}  # fmt: skip
    assert kept.account_id is not None
    assert lead_repo.account_ids_by_email(session, ["A@x.io"]) == {kept.account_id}
    assert lead_repo.get_or_create(session, "a@x.io", created_at=NOW) == (kept, False)
    stranger = lead_repo.create(session, created_at=NOW)
    assert not lead_repo.claim_email(session, stranger, "a@x.io")
    assert stranger.email is None
    with pytest.raises(Conflict, match=r"a@x\.io .*g@x\.io"):
        lead_edits.create_lead(session, playbook, {"email": "a@x.io"}, now=NOW)
    with pytest.raises(Invalid, match="itself"):
        merge.merge_leads(session, playbook, "a@x.io", "g@x.io", actor="ana", now=NOW)
    row = {"email": "A@x.io", "phone": "+1 555 0100", "first_name": "Kat"}
    report = importing.import_leads(session, enumerate([row], 2), skip_invalid=False, now=NOW)
    assert report.touched_lead_ids == [kept.id]
    event = {"email": "a@x.io", "type": "track", "name": "Webinar Attended",
             "timestamp": NOW.isoformat(), "message_id": "w1"}  # fmt: skip
    importing.import_events(session, enumerate([event], 2), skip_invalid=False, now=NOW)
    session.flush()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Lead)) == count + 1  # the stranger
    assert session.scalar(select(Lead).where(Lead.email == "a@x.io")) is None
    assert (kept.phone, kept.first_name) == ("+1 555 0100", "Kat")  # as for its own address
    webinar = session.scalar(select(Event.lead_id).where(Event.message_id == "w1"))
    assert webinar == kept.id


def test_an_address_merged_away_follows_its_person_into_a_later_merge(
    session: Session, playbook: Playbook
) -> None:
    """Rob (d@x.io) folded into Bob (b@x.io), Bob then into Eve's record (e@x.io): both
    addresses name Eve's lead. A lead kept with no address of its own takes the duplicate's."""
    merge.merge_leads(session, playbook, "b@x.io", "d@x.io", actor="ana", now=NOW)
    merge.merge_leads(session, playbook, "e@x.io", "b@x.io", actor="ana", now=NOW)
    eve = leads.find(session, "e@x.io")
    assert leads.find(session, "d@x.io") is eve and leads.find(session, "b@x.io") is eve
    assert sorted(lead_repo.other_emails(session, eve.id)) == ["b@x.io", "d@x.io"]
    assert leads.detail(session, "d@x.io", playbook, NOW)["other_emails"] == ["b@x.io", "d@x.io"]
    visitor = lead_repo.create(session, created_at=NOW)
    merge.merge_leads(session, playbook, str(visitor.id), "e@x.io", actor="ana", now=NOW)
    assert visitor.email == "e@x.io"
    for email in ("b@x.io", "d@x.io", "e@x.io"):
        assert leads.find(session, email) is visitor


def _hana(session: Session, email: str, created: datetime, mql: datetime | None = None) -> Lead:
    lead = Lead(email=email, source="google", stage="lead", created_at=created, reached_rank=1)
    session.add(lead)
    session.flush()
    session.add(StageChange(lead_id=lead.id, from_stage=None, to_stage="lead", at=created,
                            reason="created", actor="system"))  # fmt: skip
    if mql is not None:
        lifecycle.record(session, lead, Transition(Stage.LEAD, Stage.MQL, "entered mql", "system"),
                         mql)  # fmt: skip
    return lead


def _velocity(session: Session, playbook: Playbook) -> dict[str, tuple[object, ...]]:
    rows = reports.run(session, playbook, "velocity", Cohort(), reports.Options(), NOW)["rows"]
    return {r["stage"]: (r["n"], r["mean_days"], r["p50_days"]) for r in rows}


def test_a_merge_enters_no_stage_in_any_report(session: Session, playbook: Playbook) -> None:
    """A merge that gives the lead kept the duplicate's further stage writes its own row (on
    the lead's history), but the duplicate's history it brings already holds the move into
    that stage: the merge's row is no entry into it (this month's digest, speed's marketing
    MQLs, the plan's actuals) and ends no stay (velocity), and the lead's time in the stage
    runs from when the duplicate entered it. Kate (L7, sql) takes Katherine's customer (L1,
    since 09-20) and Hana's October record (a lead) her September MQL (09-10), both in
    November: before, November's digest counted a customer and an MQL entered, speed one MQL,
    velocity an sql stay of 70 days and a lead stay of 45, and Hana's next move an MQL stay
    of 4.5 days instead of 71."""
    _hana(session, "hana@y.io", day(10, 1))
    _hana(session, "hana.2@y.io", day(9, 1), mql=day(9, 10))
    session.flush()
    before = _velocity(session, playbook)
    merge.merge_leads(session, playbook, "g@x.io", "a@x.io", actor="ana", now=NOW)
    merge.merge_leads(session, playbook, "hana@y.io", "hana.2@y.io", actor="ana", now=NOW)
    november = digest.build(session, playbook, "2026-11", NOW)
    assert november["entered"] == {"lead": 0, "mql": 0, "sql": 0, "opportunity": 0, "customer": 0}
    speed = reports.run(session, playbook, "speed", Cohort(), reports.Options(period="2026-11"),
                        NOW)  # fmt: skip
    assert speed["marketing"]["mqls"] == 0
    assert queries.plan_actuals(session, day(11, 1), NOW)["mql"] == 0
    assert _velocity(session, playbook) == before
    hana = leads.find(session, "hana@y.io")
    history = leads.detail(session, "hana@y.io", playbook, NOW)["stage_history"]
    assert [(h["from"], h["to"], h["actor"]) for h in history[-1:]] == [
        ("lead", "mql", MERGE_ACTOR)]  # fmt: skip
    assert (hana.stage, hana.stage_changed_at) == ("mql", day(9, 10))
    # Hana's stay in mql runs from 09-10: 71 days, beside L1's 2, L3's 3, L4's and L5's 1.
    to_sql = Transition(Stage.MQL, Stage.SQL, "entered sql", "system")
    lifecycle.record(session, hana, to_sql, day(11, 20))
    session.flush()
    assert _velocity(session, playbook)["mql"] == (5, 15.6, 2.0)


def test_bad_merges_are_refused(session: Session, playbook: Playbook) -> None:
    with pytest.raises(Invalid, match="itself"):
        merge.merge_leads(session, playbook, "a@x.io", "a@x.io", actor="ana", now=NOW)
    with pytest.raises(NotFound):
        merge.merge_leads(session, playbook, "a@x.io", "nobody@x.io", actor="ana", now=NOW)


def test_the_duplicates_account_no_longer_counts_it(sessions: sessionmaker[Session]) -> None:
    """Ann's acme record (20 points) folded into her globex one (10): acme keeps only Bob, as
    a full re-score counts it, and Bob's next event is counted from there."""
    with sessions() as session, session.begin():
        book = account_scenario.installed(session)
        at = account_scenario.T0
        for message_id, email in (("a1", "ann@acme.com"), ("a2", "ann@acme.com"),
                                  ("b1", "bob@acme.com"), ("g1", "ann@globex.io")):  # fmt: skip
            account_scenario.page(session, book, email, message_id, at)
        domains = ["acme.com", "globex.io"]

        merge.merge_leads(session, book, "ann@globex.io", "ann@acme.com", actor="ana", now=at)

        account_scenario.agrees_now_and_after_bobs_next_page(
            session, book, domains, at, {"acme.com": (0, 10, 10, 1), "globex.io": (0, 30, 30, 1)}
        )


HAND_RAISER = """
name: hand raiser
engagement:
  rules:
    - {id: demo, label: Demo, points: 10, decay: false, event: {type: track, name: Demo Requested}}
lifecycle:
  lead: {field: email, exists: true}
  hand_raisers:
    - {label: Demo requested, stage: sql, event: {type: track, name: Demo Requested}}
  sales_ready: [sql]
routing: {fallback: inbound}
"""


def _answer(session: Session, email: str) -> tuple[object, ...]:
    session.flush()
    session.expire_all()
    lead = session.scalars(select(Lead).where(Lead.email == email)).one()
    routed = session.scalars(select(Assignment.team).where(Assignment.lead_id == lead.id)).all()
    return lead.total, lead.stage, sorted(t or "" for t in routed)


def test_a_demo_request_merged_in_moves_the_lead_kept_as_a_re_score_does(
    sessions: sessionmaker[Session],
) -> None:
    """Bo asked for a demo from his second address (made SQL, then recycled by sales) after
    his first record last changed stage: merged into it, the request is its now, and the stage
    step sees it as a re-score of the merged history does, at the merge rather than later."""
    with sessions() as session, session.begin():
        playbooks.install(session, HAND_RAISER, author="test", now=account_scenario.T0)
        book = playbooks.active_playbook(session)
        at = account_scenario.T0
        _sent(session, book, at - timedelta(days=10), type="identify", userId="bo@acme.com",
              traits={"email": "bo@acme.com"}, messageId="i1")  # fmt: skip
        _sent(session, book, at - timedelta(days=5), type="track", userId="bo.2@acme.com",
              event="Demo Requested", messageId="d1")  # fmt: skip
        second = leads.find(session, "bo.2@acme.com")
        assert second.stage == "sql"
        lifecycle.act(session, second, Action.RECYCLE, actor="ana", reason="not now",
                      now=at - timedelta(days=4))  # fmt: skip
        assert _answer(session, "bo@acme.com")[:2] == (0, "lead")

        merge.merge_leads(session, book, "bo@acme.com", "bo.2@acme.com", actor="ana", now=at)

        merged = _answer(session, "bo@acme.com")
        pipeline.run_bulk(session, book, at, cause="rescore", actor="rescore")
        assert merged == _answer(session, "bo@acme.com")


def _sent(session: Session, book: Playbook, at: datetime, **message: object) -> None:
    messages, rejected = parse_all([{**message, "timestamp": at.isoformat()}], at)
    assert not rejected
    ingest(session, book, messages, source="test", now=at)


def test_w_shaped_credit_goes_to_the_touch_that_made_the_opportunity_not_the_merge(
    session: Session, playbook: Playbook
) -> None:
    """Dana's second record became an opportunity 09-05, after a `deal` e-mail 09-04; a
    `later` page came 09-08; the records were merged 09-10 and the deal won 09-12. The
    opportunity was made 09-05: `deal` made it (30%), `later` is one of the rest (10%), not
    the other way round because the merge's own row moved the lead kept on 09-10."""
    kept = _hana(session, "dana@y.io", day(9, 1))
    kept.campaign = "dana-first"
    duplicate = _hana(session, "dana.work@y.io", day(9, 2))
    for before, stage in ((Stage.LEAD, Stage.SQL), (Stage.SQL, Stage.OPPORTUNITY)):
        move = Transition(before, stage, f"entered {stage.value}", "system")
        lifecycle.record(session, duplicate, move, day(9, 5))
    for n, (name, at, campaign) in enumerate((("Email Clicked", day(9, 4), "deal"),
                                              ("Page", day(9, 8), "later"))):  # fmt: skip
        event_repo.insert(session, lead_id=duplicate.id, type="track", name=name,
                          occurred_at=at, source="api", properties={"campaign": campaign},
                          context={}, message_id=f"dana{n}")  # fmt: skip
    session.flush()
    merge.merge_leads(session, playbook, "dana@y.io", "dana.work@y.io", actor="ana",
                      now=day(9, 10))  # fmt: skip
    lifecycle.act(session, kept, Action.CLOSE_WON, actor="ana", reason="", now=day(9, 12),
                  amount=1000.0)  # fmt: skip
    session.flush()
    rows = reports.run(session, playbook, "attribution", Cohort(), reports.Options(), NOW)["rows"]
    credit = {r["campaign"]: r["w_shaped"] for r in rows}
    assert (credit["dana-first"], credit["deal"], credit["later"]) == (600.0, 300.0, 100.0)


def test_two_deals_won_for_different_amounts_are_not_merged(
    session: Session, playbook: Playbook
) -> None:
    """Katherine (a@x.io) won 1,000 and Kathy (c@x.io) 3,000: a lead holds one deal, so a
    merge would drop one amount from every revenue report; it is refused, nothing changed."""
    with pytest.raises(Conflict, match=r"won for 1,000 and c@x\.io for 3,000"):
        merge.merge_leads(session, playbook, "a@x.io", "c@x.io", actor="ana", now=NOW)
    won = session.scalars(select(Lead.outcome_amount).where(Lead.outcome == "won")).all()
    assert sorted(won) == [1000.0, 3000.0]


def test_one_deal_recorded_on_both_records_is_merged_once(
    session: Session, playbook: Playbook
) -> None:
    """The same deal on both records (the same amount): merged, counted once."""
    kathy = session.scalars(select(Lead).where(Lead.email == "c@x.io")).one()
    kathy.outcome_amount = 1000.0
    session.flush()
    merge.merge_leads(session, playbook, "a@x.io", "c@x.io", actor="ana", now=NOW)
    won = session.scalars(select(Lead.outcome_amount).where(Lead.outcome == "won")).all()
    assert won == [1000.0]
