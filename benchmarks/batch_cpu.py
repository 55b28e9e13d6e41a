#!/usr/bin/env python3
"""CPU per tracking transaction, in-process: what the soak's load costs the server, minus HTTP.

    python3 dev.py bench batch_cpu [--batches 3000] [--first 1000] [--batch 10]
                                   [--anonymous | --identified]

On a fresh SQLite database with the B2B example playbook, stores and scores `--batches`
batches of `--batch` Segment messages (the soak's and `bench ingest`'s mix: 5,000 people, a
tenth identified by e-mail) through `services.ingest`, one transaction each, as the server
does for one `/v1/batch` request. Reports the CPU time (user+sys of this process) per
transaction for the first `--first` batches, where most identified people are new (their lead,
account and identity links are created and their anonymous past attributed), and for the rest,
where they are known. `--anonymous` keeps only anonymous visitors' page views and track calls
(a browser's call before anyone signs up: stored, nothing to score); `--identified` only
identified people's (each scored, staged and rolled up into its account). CPU time is what a
shared machine inflates least; the same-machine baseline is the same run of another commit
(`git stash`, or another checkout on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import LEADFLOW, PLAYBOOK, message


def _message(rng: random.Random, kind: str | None) -> dict[str, object]:
    """The next message of the mix, or of its page and track calls by anonymous visitors or by
    identified people only."""
    while True:
        found = message(rng)
        if kind is None:
            return found
        if found["type"] in ("page", "track") and bool(found.get("userId")) == (
            kind == "identified"
        ):
            return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=3_000)
    parser.add_argument("--first", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=10)
    kinds = parser.add_mutually_exclusive_group()
    kinds.add_argument("--anonymous", action="store_true", help="anonymous page/track only")
    kinds.add_argument("--identified", action="store_true", help="identified page/track only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadflow-batch-cpu-") as folder:
        return _bench(args, Path(folder))


def _bench(args: argparse.Namespace, folder: Path) -> int:
    """The transactions timed, on a new database in `folder`."""
    url = f"sqlite:///{folder / 'bench.db'}"
    env = {**os.environ, "LEADFLOW_DATABASE_URL": url}
    subprocess.run([str(LEADFLOW), "init", "--playbook", str(PLAYBOOK)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    from sqlalchemy.orm import Session

    from leadflow.models.db import make_engine
    from leadflow.services import ingest, playbooks

    engine = make_engine(url)
    rng = random.Random(3)
    kind = "anonymous" if args.anonymous else "identified" if args.identified else None
    batches = [[_message(rng, kind) for _ in range(args.batch)]
               for _ in range(args.batches)]  # fmt: skip

    def run(part: list[list[dict[str, object]]]) -> float:
        started = time.process_time()
        for raw in part:
            now = datetime.now(UTC)
            with Session(engine) as session, session.begin():
                book = playbooks.active_playbook(session)
                valid, _ = ingest.parse_all(raw, now)
                ingest.ingest(session, book, valid, source="bench", now=now)
        return (time.process_time() - started) / max(len(part), 1) * 1e3

    load = os.getloadavg()[0]
    first = run(batches[: args.first])
    rest = run(batches[args.first :])
    print(f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLite; load average {load:.1f} at start")  # fmt: skip
    print(
        f"{args.batch} {kind + ' ' if kind else ''}messages per transaction: "
        f"first {args.first:,} (new people) "
        f"{first:.2f} ms CPU each; next {args.batches - args.first:,} (known) {rest:.2f} ms"
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
