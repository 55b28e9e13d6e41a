"""The demo company's live traffic: what its website and e-mails send each second (pure).

`Traffic.tick(now)` returns Segment messages for one second of a believable B2B site:
anonymous visitors browsing (a few in a hundred leave their e-mail and become leads), known
leads coming back, clicks in the newsletter, and now and then a demo request from someone at
a top-tier account, the first one early so a lead turns sales-ready while you watch. The
random generator and the clock are the caller's, so a seed replays the same traffic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

PAGES = ("/", "/product", "/blog/automation-101", "/blog/ops-metrics", "/integrations", "/about")
BUYER_PAGES = ("/pricing", "/customers/northwind", "/customers/contoso", "/security")
FIRST = ("Dana", "Elif", "Marco", "Priya", "Tomas", "Grace", "Ikaika", "Sofia", "Kwame", "Lena")
LAST = ("Whitfield", "Aydin", "Rossi", "Raman", "Novak", "Okoro", "Kahale", "Lund", "Mensah")
SENIOR = ("VP Operations", "Head of Operations", "COO", "Director of Operations")
OTHER = ("Operations Manager", "IT Manager", "Operations Analyst", "Coordinator")


@dataclass(frozen=True)
class Rates:
    """How busy the site is, per second, and the share of visitors who become leads."""

    new_visitors: float = 0.5  # new anonymous visitors a second
    returning_visitors: float = 0.1
    signup: float = 0.03  # share of visits that end with the visitor leaving an e-mail
    known_returns: float = 0.2  # known leads coming back, a second
    email_clicks: float = 0.15  # newsletter clicks, a second
    demo_every: float = 240.0  # seconds, on average, between top-tier demo requests
    first_demo_after: float = 20.0  # seconds after the start: a lead tips over early


@dataclass
class Traffic:
    """The live site: visitors it has seen, leads it knows, when the next demo request is."""

    rng: random.Random
    known: list[str]  # e-mails of leads who may come back
    top_domains: list[str]  # the playbook's top-tier accounts
    lead_domains: list[str]  # companies new leads work at
    started: datetime
    rates: Rates = field(default_factory=Rates)
    visitors: list[str] = field(default_factory=list)
    signups: int = 0
    next_demo: datetime | None = None
    identified: set[str] = field(default_factory=set)  # known leads this run has named
    sent: int = 0

    def __post_init__(self) -> None:
        self.next_demo = self.started + timedelta(seconds=self.rates.first_demo_after)
        self.run = f"{self.rng.getrandbits(32):08x}"  # message ids are unique per run

    def tick(self, now: datetime) -> list[dict[str, Any]]:
        """The messages of one second."""
        rates, out = self.rates, []
        for _ in range(self._count(rates.new_visitors)):
            visitor = f"anon-{self.rng.getrandbits(64):016x}"
            self.visitors = [*self.visitors[-499:], visitor]
            out += self._visit(visitor, now)
        for _ in range(self._count(rates.returning_visitors)):
            if self.visitors:
                out += self._visit(self.rng.choice(self.visitors), now)
        for _ in range(self._count(rates.known_returns)):
            if self.known:
                out += self._lead_returns(self.rng.choice(self.known), now)
        for _ in range(self._count(rates.email_clicks)):
            if self.known:
                email = self.rng.choice(self.known)
                out += self._named(email, now)
                out.append(self._track(email, "Email Clicked", now, campaign="monthly-digest"))
        if self.next_demo is not None and now >= self.next_demo and self.top_domains:
            out += self._demo_request(now)
            wait = self.rng.expovariate(1 / rates.demo_every)
            self.next_demo = now + timedelta(seconds=max(30.0, wait))
        return out

    def _count(self, rate: float) -> int:
        """How many of something happen this second, at `rate` a second on average."""
        whole, part = divmod(rate, 1.0)
        return int(whole) + (self.rng.random() < part)

    def _visit(self, visitor: str, now: datetime) -> list[dict[str, Any]]:
        pages = [self.rng.choice(PAGES) for _ in range(self.rng.randint(1, 4))]
        if self.rng.random() < 0.15:
            pages.append(self.rng.choice(BUYER_PAGES))
        out = [self._page({"anonymousId": visitor}, path, now) for path in pages]
        if self.rng.random() < self.rates.signup and self.lead_domains:
            out += self._sign_up(visitor, now)
        return out

    def _sign_up(self, visitor: str, now: datetime) -> list[dict[str, Any]]:
        """A visitor downloads the playbook and leaves their e-mail: a new lead."""
        self.signups += 1
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        email = f"{first}.{last}.live{self.signups}@{self.rng.choice(self.lead_domains)}".lower()
        title = self.rng.choice(SENIOR if self.rng.random() < 0.2 else OTHER)
        self.known.append(email)
        self.identified.add(email)
        return [
            self._identify(email, now, first, last, title, anonymous=visitor),
            self._track(email, "Content Downloaded", now, asset="ops-playbook.pdf"),
        ]

    def _lead_returns(self, email: str, now: datetime) -> list[dict[str, Any]]:
        pages = [self.rng.choice(PAGES) for _ in range(self.rng.randint(1, 3))]
        if self.rng.random() < 0.3:
            pages.append(self.rng.choice(BUYER_PAGES))
        named = self._named(email, now)
        return named + [self._page({"userId": email}, path, now) for path in pages]

    def _named(self, email: str, now: datetime) -> list[dict[str, Any]]:
        """The first message about a lead the demo built: who `userId` is (by e-mail)."""
        if email in self.identified:
            return []
        self.identified.add(email)
        return [{**self._base({"userId": email}, now), "type": "identify",
                 "traits": {"email": email}}]  # fmt: skip

    def _demo_request(self, now: datetime) -> list[dict[str, Any]]:
        """Someone senior at a top-tier account reads pricing and a case study, then asks."""
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        self.signups += 1
        email = f"{first}.{last}.live{self.signups}@{self.rng.choice(self.top_domains)}".lower()
        title = self.rng.choice(SENIOR)
        self.known.append(email)
        self.identified.add(email)
        return [
            self._identify(email, now, first, last, title),
            self._page({"userId": email}, "/pricing", now),
            self._page({"userId": email}, "/customers/northwind", now),
            self._track(email, "Demo Requested", now),
        ]

    def _base(self, who: dict[str, str], now: datetime) -> dict[str, Any]:
        self.sent += 1
        mid = f"live-{self.run}-{self.sent}"
        return {**who, "messageId": mid, "timestamp": now.isoformat()}

    def _page(self, who: dict[str, str], path: str, now: datetime) -> dict[str, Any]:
        return {**self._base(who, now), "type": "page", "properties": {"path": path}}

    def _track(self, email: str, event: str, now: datetime, **properties: Any) -> dict[str, Any]:
        return {**self._base({"userId": email}, now), "type": "track", "event": event,
                "properties": properties}  # fmt: skip

    def _identify(
        self, email: str, now: datetime, first: str, last: str, title: str,
        anonymous: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        who = {"userId": email, **({"anonymousId": anonymous} if anonymous else {})}
        traits = {"email": email, "firstName": first, "lastName": last, "title": title}
        return {**self._base(who, now), "type": "identify", "traits": traits}
