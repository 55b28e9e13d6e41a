"""Pushed updates for the pages: one Server-Sent Events stream per open page, fed by one hub.

The hub looks at what committed (`services.notifications.changes_since`: new notifications,
hand-offs, events of the leads someone has open) when woken, and at least every 250 ms:
woken in this process right after a transaction that wrote a notification or a hand-off
commits (`repositories.notifications.COMMIT_LISTENERS`), and in every process by PostgreSQL's
`NOTIFY` at that commit. The browser never polls: it keeps one EventSource open
(`static/live.js`) and each page re-fetches only the part an event concerns.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from leadflow.api.deps import DbSession
from leadflow.api.errors import failure_line
from leadflow.api.strict_body import BoundedRoute
from leadflow.core.errors import NotFound
from leadflow.core.roles import Permission
from leadflow.repositories import notifications as notification_repo
from leadflow.services import access, leads, notifications, users
from leadflow.web.auth import COOKIE, Seen, Viewer

log = logging.getLogger("leadflow.live")
TICK = 0.25  # seconds: the longest a change made by another process waits without NOTIFY
KEEP_ALIVE = 15.0  # seconds between comments that keep proxies from closing an idle stream
SESSION_CHECK = 5.0  # seconds: how long a stream with nothing to send outlives its session
ENDED = ""  # the name of no event: what wakes a stream to close
router = APIRouter(include_in_schema=False, route_class=BoundedRoute)


@dataclass(eq=False)
class Watcher:
    """One open page: whose it is (the session it was opened in, and the person's role then),
    which lead it shows, and what to send it (on its loop)."""

    user_id: int
    lead_id: int | None
    loop: asyncio.AbstractEventLoop
    session_key: str  # `users.session_key` of the page's session
    role: str
    outbox: asyncio.Queue[tuple[str, dict[str, Any]]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=200)
    )
    ended: bool = False  # its session no longer holds: the stream sends nothing more

    def send(self, name: str, data: dict[str, Any]) -> None:
        """Queue an event for the page (from the hub's thread)."""
        with contextlib.suppress(RuntimeError):  # the page's loop has ended
            self.loop.call_soon_threadsafe(self._put, (name, data))

    def end(self) -> None:
        """End the stream (from the hub's thread): set first, so that nothing queued before
        is sent after, then the stream is woken to close."""
        self.ended = True
        self.send(ENDED, {})

    def _put(self, item: tuple[str, dict[str, Any]]) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a stalled page misses updates, not memory
            self.outbox.put_nowait(item)


class Hub:
    """Reads what committed, in its own thread, and hands it to the pages that watch it."""

    def __init__(self, sessions: sessionmaker[Session], engine: Engine) -> None:
        self.sessions = sessions
        self.engine = engine
        self.watchers: set[Watcher] = set()
        self.cursor: notifications.Cursor | None = None
        self.stopped = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._users = 0  # lifespans running (a test may run two: TestClient and uvicorn)
        self._checked = 0.0  # when the watchers' sessions were last looked at (monotonic)

    def start(self) -> None:
        """Run the hub (once per process, however many servers share the app)."""
        with self._lock:
            self._users += 1
            if self._users == 1:
                self.stopped = threading.Event()
                threading.Thread(target=self.run, name="leadflow-live", daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self.stopped.set()
                self._wake.set()

    def wake(self) -> None:
        """Look now (from any thread)."""
        self._wake.set()

    def watch(self, seen: Viewer, session_key: str, lead_id: int | None) -> Watcher:
        """A stream for this person's page, which lasts while its session and their role do."""
        watcher = Watcher(seen.user.id, lead_id, asyncio.get_running_loop(), session_key,
                          seen.user.role)  # fmt: skip
        self.watchers.add(watcher)
        self.wake()
        return watcher

    def forget(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def run(self) -> None:
        """Until stopped: wait for a wake-up (or the tick), then pass on what committed."""
        stopped = self.stopped
        notification_repo.COMMIT_LISTENERS.append(self.wake)
        if self.engine.dialect.name == "postgresql":
            listen = threading.Thread(target=self._listen, args=(stopped,), daemon=True)
            listen.start()
        try:
            while not stopped.is_set():
                self._wake.wait(TICK)
                self._wake.clear()
                try:
                    self._pass()
                except Exception as exc:  # keep pushing; the next pass reads again
                    log.error("%s", failure_line("live pass failed", exc))
        finally:
            notification_repo.COMMIT_LISTENERS.remove(self.wake)

    def _pass(self) -> None:
        if not self.watchers:
            self.cursor = None  # nobody watches: start from what is new when someone does
            return
        watchers = list(self.watchers)
        watched = sorted({w.lead_id for w in watchers if w.lead_id is not None})
        with self.sessions() as session:
            if self.cursor is None:
                self.cursor = notifications.cursor_now(session)
                return
            changes = notifications.changes_since(session, self.cursor, watched)
            if changes.any() or time.monotonic() >= self._checked + SESSION_CHECK:
                self._end_signed_out(session, watchers)
        self.cursor = changes.cursor
        self._dispatch(changes)

    def _end_signed_out(self, session: Session, watchers: list[Watcher]) -> None:
        """End the streams whose session no longer signs their person in (signed out, ended by
        a deactivation or a new password, expired) or whose role changed since they opened:
        what a page is told is decided when it opens, for that person as they were then."""
        keys = {w.session_key for w in watchers}
        roles = users.roles_signed_in(session, keys, datetime.now(UTC))
        self._checked = time.monotonic()
        for watcher in watchers:
            if roles.get(watcher.session_key) != watcher.role:
                self.forget(watcher)
                watcher.end()

    def _dispatch(self, changes: notifications.Changes) -> None:
        for watcher in list(self.watchers):
            mine = [n for n in changes.notifications if n["user_id"] == watcher.user_id]
            for note in mine:
                url = f"/leads/{note['lead_id']}" if note["lead_id"] else "/notifications"
                watcher.send("notification", {
                    **note, "url": url, "unread": changes.unread[watcher.user_id]})  # fmt: skip
            if changes.handed_off or mine:
                # Everyone's queue may show new leads (unowned ones too), so everyone is told
                # to look again; which leads were handed off, only those told of them.
                told = {n["lead_id"] for n in mine}
                watcher.send("queue", {"leads": sorted(told & set(changes.handed_off))})
            if watcher.lead_id in changes.leads:
                watcher.send("lead", {"id": watcher.lead_id})

    def _listen(self, stopped: threading.Event) -> None:
        """PostgreSQL: wake the hub whenever any process commits a NOTIFY on the channel."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        while not stopped.is_set():
            try:
                dsn = url.render_as_string(hide_password=False)
                with psycopg.connect(dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {notification_repo.CHANNEL}")
                    while not stopped.is_set():
                        for _ in connection.notifies(timeout=1.0):
                            self.wake()
            except Exception as exc:  # the database restarted: listen again; the tick covers
                log.warning("%s", failure_line("listen failed", exc))
                stopped.wait(1.0)


def _may_read(session: Session, seen: Viewer, lead_id: int | None) -> bool:
    """Whether the person may open this lead's page: only then is its page told when it
    changes (the lead's activity is not another rep's to follow). The stream still carries
    their notifications either way."""
    if lead_id is None:
        return False
    try:
        found = leads.find(session, str(lead_id))
    except NotFound:
        return False
    return access.refusal(seen.actor, found, Permission.READ) is None


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/live")
async def live(
    request: Request, session: DbSession, seen: Seen, lead: int | None = None
) -> StreamingResponse:
    """The signed-in person's stream: their notifications, queue changes, the open lead."""
    hub: Hub = request.app.state.live_hub
    key = users.session_key(request.cookies.get(COOKIE, ""))
    watcher = hub.watch(seen, key, lead if _may_read(session, seen, lead) else None)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n" + _event("hello", {"unread": seen.unread})
            while not watcher.ended:
                try:
                    name, data = await asyncio.wait_for(watcher.outbox.get(), KEEP_ALIVE)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if watcher.ended:  # the browser asks again, and without a session hears 204
                    break
                yield _event(name, data)
        finally:
            hub.forget(watcher)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
