#!/usr/bin/env python3
"""Probability refresh per event: what live scoring adds when a model is active.

    python3 dev.py bench probability_refresh [--leads 2000] [--repeat 2000]

Builds the demo company in a temporary SQLite database (`--leads`), trains its model (both
kinds are measured and stored), then times `services.prediction.refresh` for one lead at a
time, as `pipeline.run_live` does for each event: the lead's behaviour is counted in the
database (`prediction.behaviour_counts`, one grouped query), its row and counts become
columns, the stored model is evaluated (a scorecard's dot product, or the forest from its
dumped trees with exact TreeSHAP, `core/trees.py`) and probability, contributions and
reasons are set on the lead. Reports CPU (user+sys) and wall time per refresh for each kind,
the counting query's share, and checks that no learner was imported.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=2_000)
    args = parser.parse_args()
    from sqlalchemy import select

    from leadflow.models import Lead
    from leadflow.models.db import make_engine, make_session_factory, upgrade
    from leadflow.repositories import accounts as account_repo
    from leadflow.services import demo, model, playbooks, prediction

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; shared with other work: read CPU beside wall")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        text = (ROOT / "examples" / "b2b_saas.yaml").read_text()
        with make_session_factory(engine)() as session, session.begin():
            demo.build(session, text, leads=args.leads, now=NOW, seed=7, train=False)
            book = playbooks.active_playbook(session)
            trained = model.train(session, book, NOW)
            print(f"trained: {trained['kind']} (scorecard ROC-AUC "
                  f"{trained['metrics']['scorecard_roc_auc']}, boosting "
                  f"{trained['metrics']['gbm_roc_auc']})")  # fmt: skip
            kinds = {trained["kind"]: model.active_model(session)}
            other = prediction.SCORECARD if trained["kind"] == prediction.BOOSTED \
                else prediction.BOOSTED  # fmt: skip
            columns, y, behaviours = _labelled(session, book)
            kinds[other] = model._final(other, columns, y, behaviours, {}, NOW)
            kinds[other].id = -1  # not stored: its forest is cached under this key
            leads = session.scalars(select(Lead).where(Lead.outcome.is_(None)).limit(50)).all()
            accounts = {a.id: a for a in account_repo.get_many(
                session, {lead.account_id for lead in leads})}  # fmt: skip
            for kind, chosen in kinds.items():
                _time(session, kind, chosen, leads, accounts, args.repeat)
    learners = sorted(m for m in ("lightgbm", "sklearn") if m in sys.modules)
    print(f"(learners loaded in this process for training: {', '.join(learners)})")
    return 0


def _labelled(session: Any, book: Any) -> tuple[Any, Any, list[str]]:
    import numpy as np

    from leadflow.repositories import training
    from leadflow.services import model, prediction

    stages = [s.value for s in book.lifecycle.sales_ready]
    rows = training.labelled(session, stages)
    counts = training.labelled_behaviour(session, stages)
    behaviours = model._frequent(counts)
    y = np.array([r["won"] for r in rows], dtype=np.int64)
    return prediction.columns_for(rows, counts, behaviours), y, behaviours


def _time(session: Any, kind: str, chosen: Any, leads: Any, accounts: dict[Any, Any],
          repeat: int) -> None:  # fmt: skip
    from leadflow.services import prediction

    def refresh(lead: Any) -> None:
        counts = prediction.behaviour_counts(session, [lead.id])
        prediction.refresh(
            chosen,
            lead,
            accounts.get(lead.account_id),
            counts.get(lead.id, ()),
        )

    refresh(leads[0])  # warms the forest cache
    cpu, wall = time.process_time(), time.perf_counter()
    for k in range(repeat):
        refresh(leads[k % len(leads)])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    counting = time.process_time()
    for k in range(repeat):
        prediction.behaviour_counts(session, [leads[k % len(leads)].id])
    counting = time.process_time() - counting
    print(f"{kind}: {repeat:,} refreshes, {cpu / repeat * 1e3:.3f} ms CPU and "
          f"{wall / repeat * 1e3:.3f} ms wall per refresh, of which counting the lead's "
          f"behaviour in the database {counting / repeat * 1e3:.3f} ms CPU")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
