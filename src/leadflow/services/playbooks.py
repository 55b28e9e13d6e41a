"""Playbook versions: install, activate, and apply with a preview of what changes."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from leadflow.core.errors import NotFound
from leadflow.core.playbook import Playbook
from leadflow.core.playbook_text import content_hash, parse_playbook
from leadflow.core.plural import counted
from leadflow.models.playbook import PlaybookVersion
from leadflow.repositories import playbook_versions
from leadflow.repositories import shadow as shadow_scores
from leadflow.services import audit, pipeline

_parsed: dict[str, Playbook] = {}


@dataclass
class ApplyOutcome:
    """What applying a playbook did (or, in a dry run, would do)."""

    version: int | None
    unchanged: bool
    diff: str
    leads_rescored: int = 0
    stage_moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    dry_run: bool = False

    @property
    def rescored_text(self) -> str:
        """What was (or, in a dry run, would be) re-scored: the CLI's line, the previews'."""
        rescored = "would re-score" if self.dry_run else "re-scored"
        return f"{rescored} {counted(self.leads_rescored, 'lead')}"

    def summary_lines(self) -> list[str]:
        """Human lines for the CLI."""
        if self.unchanged:
            return [f"playbook unchanged: version {self.version} is already active"]
        verb = "would move" if self.dry_run else "moved"
        head = "dry run: nothing changed" if self.dry_run else f"applied as version {self.version}"
        lines = [head, self.rescored_text]
        moves = sorted(self.stage_moves.items())
        lines += [f"{verb} {counted(n, 'lead')} {a} -> {b}" for (a, b), n in moves]
        if not self.stage_moves:
            lines.append("no stage changes")
        return lines


def playbook_of(version: PlaybookVersion) -> Playbook:
    """The parsed playbook of a stored version (parsed once per process)."""
    if version.content_hash not in _parsed:
        _parsed[version.content_hash] = parse_playbook(version.content, declared=False)
    return _parsed[version.content_hash]


def active_version(session: Session) -> PlaybookVersion:
    """The active version, or NotFound telling how to install one."""
    version = playbook_versions.active(session)
    if version is None:
        raise NotFound("no playbook is active: run `leadflow init --playbook FILE`")
    return version


def active_playbook(session: Session, digest: str | None = None) -> Playbook:
    """The active playbook, parsed (once per process and version: the per-event path).
    `digest`: its content hash when the caller has just read it (the live snapshot)."""
    digest = digest or playbook_versions.active_hash(session)
    if digest is not None and digest in _parsed:
        return _parsed[digest]
    return playbook_of(active_version(session))


def team_notes(session: Session, team: str) -> list[str]:
    """What to tell whoever puts a rep on `team`: a note when no routing rule of the active
    playbook (nor its fallback) sends leads there (`Routing.team_note`); none before a
    playbook is installed."""
    playbook = active_playbook_if_any(session)
    note = playbook.routing.team_note(team) if playbook is not None else None
    return [note] if note else []


def active_playbook_if_any(session: Session) -> Playbook | None:
    """The active playbook, or None before one is installed (nothing has been scored)."""
    version = playbook_versions.active(session)
    return None if version is None else playbook_of(version)


def install(session: Session, text: str, *, author: str, now: datetime) -> PlaybookVersion:
    """Validate, store as a new version (or reuse an identical one) and make it active."""
    parse_playbook(text)  # an invalid playbook never becomes a version
    existing = playbook_versions.get_by_hash(session, content_hash(text))
    version = existing or playbook_versions.create(
        session, name=parse_playbook(text).name, content=text, author=author, at=now
    )
    before = playbook_versions.active(session)
    playbook_versions.activate(session, version.id)
    _after_new_active(session, version, changed=before is None or before.id != version.id)
    action = "playbook.activate" if existing else "playbook.install"
    details = {"version": version.version, "name": version.name}
    target = f"playbook:v{version.version}"
    audit.record(session, actor=author, action=action, target=target, details=details, now=now)
    return version


def _after_new_active(session: Session, version: PlaybookVersion, *, changed: bool) -> None:
    """A shadow comparison is against the active version: a new one restarts it, and the
    shadow version itself becoming active ends it."""
    if version.shadow:
        playbook_versions.set_shadow(session, None)
    if changed:
        shadow_scores.clear(session)


def apply(
    session: Session, text: str, *, author: str, now: datetime, dry_run: bool = False
) -> ApplyOutcome:
    """Install a version, re-score every lead and advance stages; the caller commits or not."""
    book = parse_playbook(text)
    current = playbook_versions.active(session)
    if current is not None and current.content_hash == content_hash(text):
        return ApplyOutcome(current.version, unchanged=True, diff="")
    old_text = current.content if current is not None else ""
    diff = "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"version {current.version}" if current else "(none)",
            tofile="proposed",
        )
    )
    version = install(session, text, author=author, now=now)
    result = pipeline.run_bulk(
        session, book, now, cause="rescore", actor=f"playbook v{version.version}"
    )
    moves = result.moves
    return ApplyOutcome(
        None if dry_run else version.version,
        unchanged=False,
        diff=diff,
        leads_rescored=result.leads,
        stage_moves=moves,
        dry_run=dry_run,
    )


def versions(session: Session) -> list[PlaybookVersion]:
    """Every stored version, newest first."""
    return sorted(playbook_versions.list_versions(session), key=lambda v: v.version, reverse=True)
