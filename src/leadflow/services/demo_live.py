"""What the live demo starts from: leads who may come back, and the companies people work at."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from leadflow.core.companies import FREE_MAIL
from leadflow.repositories import leads as lead_repo
from leadflow.services import playbooks

KNOWN = 400  # leads the live site brings back, drawn at random from the open ones


@dataclass(frozen=True)
class Seeds:
    """Known leads' e-mails, the top-tier accounts' domains, and other leads' domains."""

    known: list[str]
    top_domains: list[str]
    lead_domains: list[str]


def seeds(session: Session, rng: random.Random) -> Seeds:
    """Drawn from the demo company in the database and the active playbook's tiers."""
    book = playbooks.active_playbook(session)
    top = [domain for tier in book.tiers[:1] for domain in tier.domains]
    emails = [lead.email for stage in ("lead", "mql") for lead in lead_repo.in_stage(session, stage)
              if lead.email]  # fmt: skip
    known = rng.sample(emails, min(KNOWN, len(emails)))
    domains = sorted({e.rsplit("@", 1)[1] for e in emails if "@" in e} - set(FREE_MAIL))
    return Seeds(known, top, domains)
