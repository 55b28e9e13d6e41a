"""`leadflow import leads|accounts|events FILE`."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path

import typer

from leadflow.cli.context import console, errors, friendly, transaction, utcnow
from leadflow.cli.file_options import DELIMITER_HELP, ENCODING_HELP
from leadflow.core.plural import counted
from leadflow.services import importing, pipeline, playbooks
from leadflow.services.files import open_table


class Kind(StrEnum):
    """What the file holds."""

    leads = "leads"
    accounts = "accounts"
    events = "events"


_IMPORTERS = {
    Kind.leads: importing.import_leads,
    Kind.accounts: importing.import_accounts,
    Kind.events: importing.import_events,
}


def register(app: typer.Typer) -> None:
    """Add `leadflow import KIND FILE`."""
    app.command("import")(import_file)


@friendly
def import_file(
    kind: Kind = typer.Argument(..., help="leads, accounts or events"),
    file: Path = typer.Argument(
        ..., help=".csv/.tsv, .xlsx or .jsonl (HubSpot/Salesforce headers understood)"
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the good rows and list the bad ones."
    ),
    encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
    delimiter: str | None = typer.Option(None, "--delimiter", help=DELIMITER_HELP),
) -> None:
    """Import a file: every bad row is reported by line; nothing is written if any is bad."""
    now = utcnow()
    clock = Stopwatch()
    table = open_table(file, encoding=encoding, delimiter=delimiter)
    errors.print(table.describe(), highlight=False)
    with transaction() as session:
        with pipeline.one_job(session):  # every bulk write below: each index rebuilt once
            report = _IMPORTERS[kind](session, table.entries, skip_invalid=skip_invalid, now=now)
            clock.lap("read and write")
            if report.touched_lead_ids or report.touched_account_ids:
                book = playbooks.active_playbook(session)
                pipeline.run_import(session, book, report, now, actor=f"import {file.name}")
                clock.lap("score and stages")
        clock.lap("indexes")
    clock.lap("commit")
    for problem in report.problems:
        errors.print(f"skipped {problem}", highlight=False)
    for note in report.notes:
        errors.print(f"note: {note}", highlight=False)
    if not report.rows:  # an empty export (a wrong filter, a failed download) reads as 0 new
        why = "it is empty" if file.stat().st_size == 0 else "only a header or blank lines"
        errors.print(f"note: {file} holds no rows ({why}): nothing to import", highlight=False)
    console.print(
        f"imported {counted(report.imported, kind.value.removesuffix('s'))} from "
        f"{counted(report.rows, 'row')} of {file}"
        + (f" ({counted(len(report.problems), 'bad row')} skipped)" if report.problems else "")
        + (
            f" ({counted(report.suppressed, 'row')} of erased or do-not-track people skipped)"
            if report.suppressed
            else ""
        )
        + (
            f" ({counted(report.dated_at_import, 'event')} dated after the import dated at it)"
            if report.dated_at_import
            else ""
        )
        + f" in {clock.total():.1f} s"
        + (f" ({clock.summary()})" if clock.summary() else ""),
        highlight=False,
    )


class Stopwatch:
    """Seconds spent per phase, for the summary line."""

    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps.append((phase, now - self._last))
        self._last = now

    def total(self) -> float:
        return sum(seconds for _, seconds in self.laps)

    def summary(self) -> str:
        """The phases that show as a tenth of a second or more once rounded (one engine has no
        index rebuild, the other no commit to wait for)."""
        shown = [(phase, seconds) for phase, seconds in self.laps if seconds >= 0.05]
        return ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in shown)
