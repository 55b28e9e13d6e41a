"""`leadflow backup` while the server takes events, then `leadflow restore`: nothing acknowledged
before the backup is missing from the restored database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from leadflow.cli.main import app as cli
from leadflow.core.roles import Role
from leadflow.models.event import Event


class Sender(threading.Thread):
    """Sends one tracked event per request, in order, and remembers which were acknowledged."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, auth=(self.key, ""), timeout=30) as client:
            k = 0
            while not self.stop.is_set():
                k += 1
                body = {"userId": f"p{k % 7}@load.io", "event": "Pricing Viewed",
                        "messageId": f"m{k}"}  # fmt: skip
                if client.post("/v1/track", json=body).status_code == 200:
                    with self.lock:
                        self.acknowledged.append(f"m{k}")

    def so_far(self) -> set[str]:
        with self.lock:
            return set(self.acknowledged)

    def wait_for(self, count: int) -> None:
        while len(self.so_far()) < count:
            self.stop.wait(0.01)


def _stored(app: FastAPI) -> set[str]:
    with app.state.sessions() as session:
        return set(session.scalars(select(Event.message_id)))


def test_backup_under_load_then_restore_keeps_every_acknowledged_event(
    app: FastAPI,
    live_url: str,
    make_key: Callable[[Role], str],
    database_url: str,
    tmp_path: Path,
) -> None:
    sender = Sender(live_url, make_key(Role.INGEST))
    sender.start()
    sender.wait_for(40)
    before = sender.so_far()  # acknowledged before the backup began
    file = tmp_path / "leadflow.backup"
    runner = CliRunner()
    done = runner.invoke(cli, ["--db", database_url, "backup", str(file)])
    assert done.exit_code == 0, done.output
    assert f"to {file}" in done.stdout
    sender.wait_for(len(sender.so_far()) + 20)  # the load goes on after the backup
    sender.stop.set()
    sender.join(timeout=30)
    after = sender.so_far() - before
    assert before <= _stored(app) and after <= _stored(app)
    restored = runner.invoke(cli, ["--db", database_url, "restore", str(file), "--yes"])
    assert restored.exit_code == 0, restored.output
    kept = _stored(app)
    assert before <= kept  # nothing acknowledged before the backup is lost
    assert len(after - kept) >= 20  # those sent after the backup finished are gone: restored


def test_restore_refuses_a_file_that_is_not_a_backup(database_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    result = CliRunner().invoke(cli, ["--db", database_url, "restore", str(junk), "--yes"])
    assert result.exit_code == 1
    assert "notes.txt: not a" in result.stderr
    missing = CliRunner().invoke(cli, ["--db", database_url, "restore", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "no such backup file" in missing.stderr
