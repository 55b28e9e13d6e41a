"""Wake-ups once a transaction commits: whoever waits for rows of a kind (the pages for new
notifications, the worker for new outbox messages) is told at the commit instead of finding
them on its next poll.

A writer calls `mark(session, topic)`; right after that transaction commits, every listener of
the topic in this process runs (never when it rolls back). A writer may also leave a callback
for its own transaction's commit (`after_commit`). Both run in the committing thread, so they
only set a flag, an event or a list.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

CHANGES = "changes"  # notifications and hand-offs: the live pages look again
OUTBOX = "outbox"  # messages to deliver: the worker looks again

LISTENERS: dict[str, list[Callable[[], None]]] = {CHANGES: [], OUTBOX: []}
_MARKED = "leadflow.committed_topics"
_CALLBACKS = "leadflow.after_commit"


def mark(session: Session, topic: str) -> bool:
    """Wake the topic's listeners when this transaction commits; whether this is the first
    mark of the topic in the transaction."""
    marked: set[str] = session.info.setdefault(_MARKED, set())
    first = topic not in marked
    marked.add(topic)
    return first


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once this transaction commits (before the topics' listeners); never
    when it rolls back."""
    session.info.setdefault(_CALLBACKS, []).append(callback)


def listen(topic: str, listener: Callable[[], None]) -> None:
    LISTENERS[topic].append(listener)


def unlisten(topic: str, listener: Callable[[], None]) -> None:
    LISTENERS[topic].remove(listener)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for callback in session.info.pop(_CALLBACKS, ()):
        callback()
    for topic in session.info.pop(_MARKED, ()):
        for listener in list(LISTENERS[topic]):
            listener()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_MARKED, None)
    session.info.pop(_CALLBACKS, None)
