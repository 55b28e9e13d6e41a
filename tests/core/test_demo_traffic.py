"""The live demo's traffic is believable: a few in a hundred visitors become leads, a top-tier
demo request comes early and then now and then, and a seed replays the same traffic."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from leadflow.core.demo_traffic import Rates, Traffic

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def an_hour(seed: int = 3, rates: Rates | None = None) -> list[list[dict[str, object]]]:
    traffic = Traffic(random.Random(seed), ["kim@acme.io", "lou@acme.io"], ["fabrikam.io"],
                      ["acme.io", "globex.com"], START, rates or Rates())  # fmt: skip
    return [traffic.tick(START + timedelta(seconds=s)) for s in range(3600)]


def test_a_few_percent_of_visitors_become_leads() -> None:
    messages = [m for second in an_hour() for m in second]
    visitors = {m["anonymousId"] for m in messages if "anonymousId" in m}
    signed_up = {m["anonymousId"] for m in messages
                 if m["type"] == "identify" and "anonymousId" in m}  # fmt: skip
    assert 1500 < len(visitors) < 2100  # about one new visitor every two seconds
    assert 0.02 < len(signed_up) / len(visitors) < 0.05


def test_the_first_demo_request_comes_when_asked_then_now_and_then() -> None:
    seconds = [s for s, second in enumerate(an_hour(rates=Rates(first_demo_after=20)))
               if any(m.get("event") == "Demo Requested" for m in second)]  # fmt: skip
    assert seconds[0] == 20
    assert 5 <= len(seconds) <= 40  # every four minutes on average
    assert all(b - a >= 30 for a, b in pairwise(seconds))


def test_a_demo_request_comes_from_a_senior_person_at_a_top_tier_account() -> None:
    second = an_hour(rates=Rates(first_demo_after=0))[0]
    asked = [m for m in second if m.get("event") == "Demo Requested"]
    [who] = [m for m in second if m["type"] == "identify" and m["userId"] == asked[0]["userId"]]
    assert str(who["userId"]).endswith("@fabrikam.io")
    assert who["traits"]["title"] in {"VP Operations", "Head of Operations", "COO",  # type: ignore[index]
                                      "Director of Operations"}  # fmt: skip


def test_a_known_lead_is_named_by_e_mail_before_its_first_event() -> None:
    messages = [m for second in an_hour() for m in second if m.get("userId") == "kim@acme.io"]
    assert messages[0]["type"] == "identify"
    assert messages[0]["traits"] == {"email": "kim@acme.io"}
    assert sum(m["type"] == "identify" for m in messages) == 1


def test_a_seed_replays_the_same_traffic_with_unique_message_ids() -> None:
    assert an_hour(seed=5) == an_hour(seed=5)
    ids = [m["messageId"] for second in an_hour() for m in second]
    assert len(ids) == len(set(ids))
