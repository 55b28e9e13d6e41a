#!/usr/bin/env python3
"""How well the learners rank, beside the oracle (the true propensity), out of sample.

    python3 dev.py bench learning [--demo-leads 2000] [--skip-demo]

1. Generated CRM exports (benchmarks/crm_exports.py: nonlinear effects, interactions, missing
   values, high-cardinality text, 5-10% positives) through `tune --history`: every AUC it
   reports (the better model and which, the scorecard, LightGBM, the proposed playbook, the
   baselines), all on the same five folds, and the oracle's AUC on the same rows.
2. The demo company (`services/demo.py`) through `model train` and `tune`: the served model,
   both kinds, the active playbook's score, and the oracle (each lead's hidden propensity).

Prints a Markdown table (pasted into the README) and the CPU time each took.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crm_exports import generate  # noqa: E402

from leadflow.core.report_math import roc_auc  # noqa: E402
from leadflow.services.tuning import tune_history  # noqa: E402

EXPORTS = [(3_000, 1, 0.08), (10_000, 2, 0.05), (6_000, 3, 0.10)]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def exports(folder: Path) -> list[str]:
    lines = []
    for rows, seed, rate in EXPORTS:
        made = generate(folder / f"crm-{seed}.csv", rows, seed=seed, positive_rate=rate)
        started = time.process_time()
        result = tune_history(made.path, "Closed Won", ["Email"])
        cpu = time.process_time() - started
        oracle = roc_auc(made.propensity, made.won)
        base = result["baselines"]
        lines.append(
            f"| export {rows:,} rows, seed {seed}, {made.won.mean():.1%} won | {oracle} | "
            f"**{result['auc']}** ({result['model']}) | {result['scorecard_auc']} | "
            f"{result['gbm_auc']} | {result['playbook_auc']} | "
            + " | ".join(str(v) for v in base.values()) + f" | {cpu:.0f} s |"
        )  # fmt: skip
        print(lines[-1], flush=True)
    return lines


def demo(folder: Path, leads: int) -> str:
    from sqlalchemy import select

    from leadflow.models import Lead
    from leadflow.models.db import make_engine, make_session_factory, upgrade
    from leadflow.repositories import training
    from leadflow.services import demo as demo_service
    from leadflow.services import model, playbooks, tuning_db

    engine = make_engine(f"sqlite:///{folder / 'demo.db'}")
    upgrade(engine)
    text = (ROOT / "examples" / "b2b_saas.yaml").read_text()
    with make_session_factory(engine)() as session, session.begin():
        demo_service.build(session, text, leads=leads, now=NOW, seed=7, train=False)
        book = playbooks.active_playbook(session)
        started = time.process_time()
        trained = model.train(session, book, NOW)
        tuned = tuning_db.tune(session, book)
        cpu = time.process_time() - started
        stages = [s.value for s in book.lifecycle.sales_ready]
        rows = training.labelled(session, stages)
        labelled = select(Lead).where(Lead.id.in_([r["id"] for r in rows]))
        hidden = {lead.id: float((lead.attributes or {}).get("hidden_propensity", 0))
                  for lead in session.scalars(labelled)}  # fmt: skip
        import numpy as np

        oracle = roc_auc(np.array([hidden[r["id"]] for r in rows]),
                         np.array([bool(r["won"]) for r in rows]))  # fmt: skip
    m = trained["metrics"]
    line = (
        f"| demo, {leads:,} leads, seed 7, {m['outcomes']:,} outcomes, "
        f"{m['converted'] / m['outcomes']:.1%} won | {oracle} | **{m['roc_auc']}** "
        f"({trained['kind']}) | {m['scorecard_roc_auc']} | {m['gbm_roc_auc']} | "
        f"{tuned['playbook_auc']} (`tune`'s best model {tuned['auc']}, active playbook "
        f"{m['playbook_roc_auc']}) | | | | {cpu:.0f} s |"
    )  # fmt: skip
    print(line, flush=True)
    return line


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo-leads", type=int, default=2_000)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; times are CPU (user+sys) of this process")  # fmt: skip
    print(
        "| data | oracle | best model | logistic scorecard | LightGBM | proposed playbook | "
        "logistic one-hot | naive Bayes (field frequencies) | scikit-learn boosting | CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        exports(Path(folder))
        if not args.skip_demo:
            demo(Path(folder), args.demo_leads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
