"""The pipeline: what happens to leads when something new is known about them.

Every entry point runs it (tracking calls and native events, lead and account edits, merges,
imports, `playbook apply`, `rescore`, the worker's decay sweep, the demo), in one of two forms
that give the same result:

    new events or edits
      -> score            the facts (`core.facts`) and engagement input, scored by the core
      -> account roll-up  each touched account's fit plus its buying group's engagement
      -> stage            the playbook's automatic move (hand-raisers, criteria, decay setting)
      -> hand-off         a sales-ready lead gets a rep, an SLA deadline and an outbox alert
      (-> shadow          live only: a candidate playbook scores the same leads, acting on
                          nothing, for `leadflow playbook compare`: `services.shadow_live`)

The roll-up comes before the stage step because stage criteria and routing may read the
account's score (`account.score`), which sums its leads' scores.

`run_live` does it for a few leads, one at a time, in the caller's transaction (an event, an
edit). `run_bulk` does it column-wise for many leads (`services.rescore`, then
`lifecycle.advance_all`). Scoring functions only score; moving, handing off and rolling up are
the steps here, so each is done in one place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from leadflow.core.facts import EventFacts, reads_account_score
from leadflow.core.lifecycle import Transition
from leadflow.core.playbook import Playbook
from leadflow.core.scoring import LeadScore
from leadflow.models.lead import Lead
from leadflow.repositories import accounts as account_repo
from leadflow.repositories import (
    bulk_jobs,
    lead_activity,
    live_snapshot,
    rule_state,
    stage_due,
    stateless_due,
)
from leadflow.repositories import leads as lead_repo
from leadflow.repositories.live_snapshot import LiveSnapshot
from leadflow.services import (
    account_rollup,
    decay_refresh,
    engagement_state,
    lifecycle,
    live_scoring,
    reporting,
    rescore,
    shadow_live,
)
from leadflow.services import prediction as predictive
from leadflow.services.importing import ImportReport
from leadflow.services.leads import facts_of


def run_live(
    session: Session,
    playbook: Playbook,
    lead_ids: Iterable[int],
    now: datetime,
    *,
    new_events: Mapping[int, Sequence[EventFacts]] | None = None,
    cause: str,
    snapshot: LiveSnapshot | None = None,
    attributed: Mapping[int, Sequence[EventFacts]] | None = None,
    left_accounts: Iterable[int] = (),
) -> dict[int, LeadScore]:
    """Score, move, hand off and roll up these few leads now; the caller commits.

    `snapshot`: the serving model and shadow version as the caller already read them (a
    tracking call reads them once with its other per-call questions); read here when absent.
    `attributed`: events stored before that became these leads' now (an anonymous past, on
    identify). Scoring reads them from the store; the stage step sees those since the lead's
    last stage change as new, as a re-score of an import does: a demo request sent just
    before the form's identify raises the hand.
    `left_accounts`: the accounts the caller has just moved these leads away from (an edit's
    domain, a group call): rolled up again, as the accounts they are at.
    """
    wanted = sorted(set(lead_ids))
    if not wanted:
        return {}
    snapshot = snapshot or live_snapshot.read(session)
    # Locked (PostgreSQL): concurrent writers of one lead take turns, so its engagement state,
    # stage and hand-off are never read by one while another is changing them.
    leads = lead_repo.get_many(session, wanted, lock=True)
    # Their latest event and page view, now that they are locked (events may have arrived).
    lead_activity.note_added(session, wanted)
    for lead in leads:
        session.expire(lead, ["last_event_at", "last_page_view_at"])
    accounts = {a.id: a for a in account_repo.get_many(session, {x.account_id for x in leads})}
    engagement = live_scoring.engagement_input(session, playbook, wanted, new_events or {}, now)
    predictor = predictive.serving(session, snapshot.model_id)
    counts = predictive.behaviour_counts(session, wanted) if predictor else {}
    scores: dict[int, LeadScore] = {}
    scored: list[shadow_live.Scored] = []
    for lead in leads:
        account = accounts.get(lead.account_id) if lead.account_id else None
        if predictor is not None and lead.outcome is None:  # a fact rules may read: first
            predictive.refresh(predictor, lead, account, counts.get(lead.id, ()))
        facts = facts_of(session, lead, playbook, account)
        score = live_scoring.score(playbook, facts, engagement.get(lead.id, {}), now)
        arrived = (new_events or {}).get(lead.id, ())
        live_scoring.store(session, lead, score, now, cause=cause, new_events=arrived)
        scores[lead.id] = score
        scored.append(shadow_live.Scored(lead, account, facts, score))
    shadow_live.observe(session, playbook, scored, new_events or {}, now, snapshot.shadow)
    session.flush()
    # The roll-up before the stage step, as in `run_bulk`: stage criteria and routing may read
    # the account's score (`account.score`), which sums its leads' new scores.
    # Kept by differences (`services.account_rollup`): the cost does not grow with an
    # account's size.
    rolled_up = account_rollup.update(session, playbook, leads, now, left_accounts)
    # Their colleagues may qualify now (or, falling back, no longer): the worker moves them.
    # The accounts a lead left too: the score there fell without any lead there being scored.
    if reads_account_score(playbook):
        stage_due.mark(session, rolled_up, now)
    for lead in leads:
        account = accounts.get(lead.account_id) if lead.account_id else None
        facts = facts_of(session, lead, playbook, account)
        arrived = [*(new_events or {}).get(lead.id, ()), *_since_move(lead, attributed)]
        _stage_and_hand_off(session, playbook, lead, scores[lead.id], facts, arrived, now)
    session.flush()  # the moves too: callers read them back with plain SQL
    return scores


def _since_move(
    lead: Lead, attributed: Mapping[int, Sequence[EventFacts]] | None
) -> list[EventFacts]:
    """The events attributed to the lead now that happened after its last stage change."""
    since = lead.stage_changed_at
    found = (attributed or {}).get(lead.id, ())
    return [e for e in found if since is None or e.occurred_at > since]


def _stage_and_hand_off(
    session: Session,
    playbook: Playbook,
    lead: Lead,
    score: LeadScore,
    facts: dict[str, object],
    arrived: Sequence[EventFacts],
    now: datetime,
) -> Transition | None:
    """The stage step, then the hand-off step when the move made the lead sales-ready."""
    return lifecycle.advance(session, lead, playbook, score, facts, arrived, now)


def run_accounts(
    session: Session, playbook: Playbook, account_ids: Iterable[int | None], now: datetime, *,
    actor: str,
) -> None:  # fmt: skip
    """The roll-up and stage steps for accounts that lost a lead no scoring step reaches (an
    erased person, a duplicate merged away): their leads counted afresh and each account
    re-scored (`account_rollup.recount`), then, when stage criteria or routing read
    `account.score`, the stage step for the leads still there, as `run_decay` does."""
    accounts = sorted({a for a in account_ids if a is not None})
    if not accounts:
        return
    account_repo.lock(session, accounts)  # writers of one roll-up take turns, as live
    account_rollup.recount(session, playbook, accounts, now)
    _move_leads_at(session, playbook, accounts, now, actor=actor)


def _move_leads_at(
    session: Session, playbook: Playbook, account_ids: Sequence[int], now: datetime, *, actor: str
) -> tuple[int, Counter[tuple[str, str]]]:
    """When stage criteria or routing read `account.score`, the stage and hand-off steps for
    the leads at these accounts, whose score moved; (how many leads, their moves)."""
    if not account_ids or not reads_account_score(playbook):
        return 0, Counter()
    leads = lead_repo.ids_at_accounts(session, account_ids)
    return len(leads), lifecycle.advance_all(session, playbook, now, actor=actor, lead_ids=leads)


def one_job(session: Session) -> AbstractContextManager[None]:
    """Bulk steps run within as one job (an import's writes, then `run_bulk`): each index of
    a table they rewrite is set aside once and rebuilt once, at the end (SQLite; the rule is
    in `repositories/_rebuild.py`)."""
    return bulk_jobs.one_job(session)


@dataclass
class BulkOutcome:
    """What a bulk run did: leads and events scored, where the time went, the stage moves."""

    leads: int
    events: int
    seconds: float
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    phases: dict[str, float] = field(default_factory=dict)


def run_bulk(
    session: Session,
    playbook: Playbook,
    now: datetime,
    *,
    cause: str,
    actor: str,
    lead_ids: Iterable[int] | None = None,
    account_ids: Iterable[int] = (),
    progress: rescore.Progress | None = None,
    probabilities_fresh: bool = False,
    arrived_since: datetime | None = None,
    other_moment: bool = False,
) -> BulkOutcome:
    """Score every lead (or those listed) column-wise, roll up accounts, move stages, hand off.

    The roll-up runs inside the re-score (it reads the scores as columns); stage moves read
    only stored scores and facts, so the order gives the same result as `run_live`'s.
    `account_ids`: accounts to roll up besides those the listed leads are at now (accounts
    they have left, accounts whose own facts changed). `probabilities_fresh`: the caller has
    just given these leads the serving model's probability (a model being served).
    `arrived_since`: events received from then on are news to the stage step whenever they
    happened (an import's: a demo request in it raises the hand as one sent live would).
    `other_moment`: `now` is not the present (`rescore --at`): the worker's next decay pass
    also searches for leads without states, which would keep that moment's score till the
    hourly search.
    """
    listed = None if lead_ids is None else sorted(set(lead_ids))
    also = sorted(set(account_ids))
    predictor = predictive.active_or_none(session)
    if predictor is not None and not probabilities_fresh:  # a fact rules may read: first
        predictive.refresh_many(session, predictor, listed)
    with one_job(session):  # the scores and the moves: the indexes they touch rebuilt once
        scored = rescore.rescore_all(
            session, playbook, now, progress, lead_ids=listed, account_ids=also, cause=cause,
        )  # fmt: skip
        moving = _with_peers(session, playbook, listed, also)
        moves = lifecycle.advance_all(
            session, playbook, now, actor=actor, lead_ids=moving, arrived_since=arrived_since
        )
    # Scored at `now`, which may be another moment than the present (`rescore --at`): the
    # decay pass reads the states whose points then and at its own moment may differ.
    rule_state.unsettle(session, listed, now)
    if other_moment:  # and the leads without states, only an hourly search reads them: sooner
        stateless_due.mark(session, now)
    # A bulk run appends many tallies (a first scoring two per persona set): folded here when
    # they are many, so the reports read soon after it need not wait for the worker.
    reporting.fold_tallies(session)
    return BulkOutcome(scored.leads, scored.events, scored.seconds, moves, scored.phases)


def _with_peers(
    session: Session, playbook: Playbook, listed: list[int] | None, account_ids: list[int]
) -> list[int] | None:
    """The leads a bulk run's stage step takes: those listed and, when stage criteria or
    routing read `account.score`, the others at the accounts it rolled up (theirs and
    `account_ids`), whose score moved with them: at once, as a full re-score moves them."""
    if listed is None or not reads_account_score(playbook):
        return listed
    return sorted({*listed, *lead_repo.peers(session, listed, account_ids)})


def run_account_peers(session: Session, playbook: Playbook, now: datetime) -> BulkOutcome:
    """The stage and hand-off steps for the leads at the accounts tracking calls re-scored
    since the last time (`run_live` marks them when stage criteria or routing read
    `account.score`): a colleague's event may have lifted the account's score over a stage's
    criteria. The worker runs it every few seconds; a re-score does the same at once."""
    peers, moves = _move_leads_at(session, playbook, stage_due.take(session), now,
                                  actor="account score")  # fmt: skip
    return BulkOutcome(peers, 0, 0.0, moves)


def run_import(
    session: Session, playbook: Playbook, report: ImportReport, now: datetime, *, actor: str
) -> BulkOutcome:
    """The pipeline after an import, in bulk: the leads it wrote, gave events or whose
    accounts it wrote, and the accounts they are at, left or that it wrote. The events it
    stored (received at `now`) are news to the stage step, as a tracking call's are."""
    return run_bulk(
        session, playbook, now, cause="rescore", actor=actor, lead_ids=report.touched_lead_ids,
        account_ids=report.touched_account_ids, arrived_since=now,
    )  # fmt: skip


def stateless_marks(session: Session) -> list[int]:
    """The marks of bulk runs at another moment (`run_bulk(other_moment=True)`) not yet
    answered: while any stands, the decay pass also searches for leads without states."""
    return stateless_due.marked(session)


def stateless_searched(session: Session, marks: Sequence[int]) -> None:
    """A decay pass that read these marks has searched for leads without states (after reading
    them) and scored all it found: they are answered. Marks written since stay."""
    stateless_due.take(session, marks)


def run_decay(
    session: Session,
    playbook: Playbook,
    now: datetime,
    lead_ids: Sequence[int] | None = None,
    *,
    rescore_at_most: int | None = None,
    planned: decay_refresh.Planned | None = None,
) -> BulkOutcome:
    """The worker's decay sweep over these leads (all when None): age their stored engagement
    states by multiplication (no events read) and write those whose shown score moved; leads
    without states for the active rules are re-scored from their events (at most
    `rescore_at_most` of them, the rest on later passes); then the stage and hand-off steps
    for the leads written, as in `run_bulk`. `planned`: the read and ageing already done
    (`decay_refresh.plan`, in an earlier transaction that took no write lock)."""
    if planned is None:
        planned = decay_refresh.plan(session, playbook, now, lead_ids)
    aged = decay_refresh.write(session, playbook, planned, now)
    rebuilt = aged.without_state[:rescore_at_most]
    if rebuilt:
        rescore.rescore_all(session, playbook, now, lead_ids=rebuilt, cause="decay")
        # Their states too, from the same events: the next passes age them by multiplication
        # and reach the next batch, rather than re-scoring this one from events every pass.
        engagement_state.states_for(session, playbook, rebuilt, {}, now)
    touched = {*aged.changed_ids, *rebuilt}
    if reads_account_score(playbook):  # their account's score moved: so may their stage
        touched |= set(lead_repo.ids_at_accounts(session, aged.accounts))
    moves = lifecycle.advance_all(session, playbook, now, actor="decay", lead_ids=sorted(touched))
    seconds = sum(aged.phases.values())
    return BulkOutcome(aged.leads + len(rebuilt), 0, seconds, moves, aged.phases)
