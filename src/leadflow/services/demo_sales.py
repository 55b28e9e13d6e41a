"""The demo's sales team at work: it calls the new sales-ready leads and a share of the others,
and works each deal through the real actions (touches, recycles, disqualifications, won and
lost deals), so the closed loop has outcomes to learn from. Whether a lead buys follows its
hidden propensity, never the playbook's score.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leadflow.core.lifecycle import Action
from leadflow.models.lead import Lead
from leadflow.repositories import leads as lead_repo
from leadflow.services import lifecycle, sales

TEAM_DOMAIN = "flowline.example"
# The SDRs call through leads that have been on the list this long, not new sign-ups.
LIST_AGE = timedelta(days=30)
RECYCLE_REASONS = ("no budget this year", "bad timing", "no authority", "just researching")
LOST_REASONS = ("chose a competitor", "price", "no decision")
DISQUALIFY_REASONS = ("not a fit", "no budget", "student")
QUESTIONS = ("Do you support SSO?", "How long is onboarding?", "Is there an API?")
OBJECTIONS = ("price", "switching cost", "security review")
# Sales takes a lead passed on by marketing with this chance per point of its propensity:
# about four MQLs in ten, fewer of the SDRs' list.
ACCEPTED_PER_CHANCE = 0.7
# A deal is won with a chance rising steeply with the propensity (this much of its cube): the
# few who fit best buy most; other SQLs still become opportunities (and are lost) this often.
WON_PER_CUBE, OPPORTUNITY_ANYWAY = 0.8, 0.55


def sales_outcomes(
    session: Session,
    rng: random.Random,
    now: datetime,
    *,
    until: datetime | None = None,
    worked: set[tuple[int, str]] | None = None,
    keep_up: bool = False,
) -> None:
    """Sales works the demo's new SQLs and MQLs and, as an SDR team calling through a list,
    four in ten of the other new leads, through the real actions between `now` and `until`:
    touches with questions, recycles, disqualifications, won and lost deals. A lead is
    considered once in each stage (`worked` holds the (lead, stage) pairs seen). Whether a
    lead buys is a coin weighted by its hidden propensity (kept in its attributes to check
    what a model learns, never used as a feature), not the playbook's score: the closed loop
    then has something true to find."""
    seen = worked if worked is not None else set()
    end = until or now
    # The rest waits: the queue has work in it. Keeping up, sales calls every SQL.
    share = {"sql": 1.0 if keep_up else 0.7, "mql": 0.7, "lead": 0.4}
    # The SDRs call through leads that have been on the list a month, not new sign-ups.
    listed = now - LIST_AGE
    # Only the leads not seen in their stage are loaded whole: a day's step sees a few.
    chosen = {
        stage: [
            lead_id for lead_id, created in lead_repo.created_in_stage(session, stage)
            if (lead_id, stage) not in seen and (stage != "lead" or created <= listed)
        ]
        for stage in share
    }  # fmt: skip
    fresh = [lead for ids in chosen.values() for lead in lead_repo.get_many(session, ids)]
    for lead in fresh:
        seen.add((lead.id, lead.stage))
        if rng.random() < share[lead.stage]:
            _work(session, rng, lead, now, end)


def _later(rng: random.Random, moment: datetime, mean_minutes: float, end: datetime) -> datetime:
    """A moment a while after `moment` (exponential, with this mean), never past `end`."""
    return min(moment + timedelta(minutes=rng.expovariate(1 / mean_minutes)), end)


def _work(session: Session, rng: random.Random, lead: Lead, now: datetime, end: datetime) -> None:
    """One lead worked by its rep: a call minutes after a hand-off (hours for the others),
    then the deal over the following days. A lead marketing passed on (an MQL, or one the SDRs
    called) is qualified on that call first: sales takes it (SQL) or sends it back to nurture
    or out, the likelier the less it would buy. Most deals that go on are still lost: about
    half the SQLs become opportunities and about a third of those are won, as in the B2B
    funnels the playbook's seeds describe, while the lead's propensity decides which."""
    chance = float((lead.attributes or {}).get("hidden_propensity", 0.2))
    rep = lead.owner or f"nora@{TEAM_DOMAIN}"
    at = _later(rng, now, 12 if lead.stage == "sql" else 180, end)
    if rng.random() < 0.85:
        asked, objected = [rng.choice(QUESTIONS)], [rng.choice(OBJECTIONS)]
        sales.log_touch(session, lead, actor=rep, channel="call", now=at,
                        questions=asked, objections=objected)  # fmt: skip
    if lead.stage != "sql":
        if rng.random() >= ACCEPTED_PER_CHANCE * chance:
            _send_back(session, rng, lead, rep, at)
            return
        lifecycle.act(session, lead, Action.ACCEPT, actor=rep, now=at, reason="")
    at = _later(rng, at, 60 * 24, end)
    if rng.random() < 0.1:
        _recycle(session, rng, lead, rep, at)
        return
    buys = rng.random() < WON_PER_CUBE * chance**3
    if buys or rng.random() < OPPORTUNITY_ANYWAY:
        amount = round(rng.lognormvariate(9.6, 0.5), -2)
        lifecycle.act(session, lead, Action.CONVERT, actor=rep, now=at, reason="",
                      amount=amount)  # fmt: skip
        action = Action.CLOSE_WON if buys else Action.CLOSE_LOST
        lifecycle.act(session, lead, action, actor=rep, now=_later(rng, at, 60 * 48, end),
                      amount=amount, reason="" if buys else rng.choice(LOST_REASONS))  # fmt: skip
    else:
        _disqualify(session, rng, lead, rep, at)


def _send_back(session: Session, rng: random.Random, lead: Lead, rep: str, at: datetime) -> None:
    """Sales does not take the lead: back to marketing's nurture with the reason (most), or out
    when it is no prospect at all."""
    if rng.random() < 0.6:
        _recycle(session, rng, lead, rep, at)
    else:
        _disqualify(session, rng, lead, rep, at)


def _recycle(session: Session, rng: random.Random, lead: Lead, rep: str, at: datetime) -> None:
    lifecycle.act(session, lead, Action.RECYCLE, actor=rep, now=at,
                  reason=rng.choice(RECYCLE_REASONS))  # fmt: skip


def _disqualify(session: Session, rng: random.Random, lead: Lead, rep: str, at: datetime) -> None:
    lifecycle.act(session, lead, Action.DISQUALIFY, actor=rep, now=at,
                  reason=rng.choice(DISQUALIFY_REASONS))  # fmt: skip
