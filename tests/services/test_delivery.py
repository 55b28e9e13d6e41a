"""What a rep's channel receives is text: an alert quotes what anyone holding the public write
key sent (a name, a title, a company), and an e-mail or a chat channel must show it as text,
never as markup of its own (a link, an image, a Slack mention)."""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import Message

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.core.roles import Role
from leadflow.services import reps
from tests.api.conftest import app, bearer, client, make_key
from tests.api.test_handoff import ALWAYS, run_worker

__all__ = ["app", "client", "make_key"]

LINK = '<a href="https://evil.example/accept">Accept this lead</a>'
PIXEL = '<img src="https://evil.example/pixel.gif">'


class Mailbox(socketserver.ThreadingTCPServer):
    """A local SMTP server (the few commands Apprise's e-mail channel sends) keeping each
    message it is given."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.messages: list[Message] = []
        super().__init__(("127.0.0.1", 0), _Smtp)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Smtp(socketserver.StreamRequestHandler):
    server: Mailbox

    def handle(self) -> None:
        self._say("220 mailbox")
        data: list[bytes] | None = None
        for line in self.rfile:
            if data is not None:  # inside DATA: until the lone dot
                if line.rstrip(b"\r\n") == b".":
                    self.server.messages.append(email.message_from_bytes(b"".join(data)))
                    data = None
                    self._say("250 kept")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = []
                self._say("354 go on")
            elif verb == b"QUIT":
                self._say("221 bye")
                return
            else:  # EHLO, MAIL FROM, RCPT TO, RSET, NOOP
                self._say("250 ok")

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    found = Mailbox()
    yield found
    found.shutdown()
    found.server_close()


def test_an_alert_e_mail_shows_what_a_visitor_typed_as_text(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], mailbox: Mailbox
) -> None:
    # Before: Apprise was given the body without its format, so the e-mail channel (HTML by
    # default) sent the visitor's markup as the message's HTML: a live link in the rep's mail.
    channel = (f"mailto://127.0.0.1:{mailbox.port}?from=alerts@flowline.io"
               "&to=cy@flowline.io&mode=insecure")  # fmt: skip
    with app.state.sessions() as session, session.begin():
        reps.add_rep(session, {"email": "cy@flowline.io", "name": "Cy", "team": "inbound",
                               "working_hours": ALWAYS, "channels": [channel]},
                     now=datetime.now(UTC))  # fmt: skip
    who = {"userId": "kai-1"}
    batch = {"batch": [
        {**who, "type": "identify", "traits": {
            "email": "kai@unlisted-co.io", "firstName": LINK, "title": PIXEL,
            "company": {"name": "Northwind " + LINK}}},
        {**who, "type": "track", "event": "Demo Requested"},
    ]}  # fmt: skip
    sent = client.post("/v1/batch", json=batch, auth=(make_key(Role.INGEST), ""))
    assert sent.status_code == 200, sent.text
    run_worker(app)
    [mail] = mailbox.messages
    parts = [p for p in mail.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parts] == ["text/plain"]  # no HTML of anyone's
    [text] = [str(p.get_payload(decode=True), "utf-8") for p in parts]
    assert LINK in text and PIXEL in text  # what was typed, as it was typed
    assert LINK in str(mail["Subject"])


def test_a_name_sent_with_line_breaks_reaches_the_reps_mail_on_one_line(
    app: FastAPI, client: TestClient, make_key: Callable[[Role], str], mailbox: Mailbox
) -> None:
    # Before: the names kept their line breaks into the alert's title, the e-mail's Subject.
    channel = (f"mailto://127.0.0.1:{mailbox.port}?from=alerts@flowline.io"
               "&to=cy@flowline.io&mode=insecure")  # fmt: skip
    with app.state.sessions() as session, session.begin():
        reps.add_rep(session, {"email": "cy@flowline.io", "name": "Cy", "team": "inbound",
                               "working_hours": ALWAYS, "channels": [channel]},
                     now=datetime.now(UTC))  # fmt: skip
    who = {"userId": "kai-1"}
    batch = {"batch": [
        {**who, "type": "identify", "traits": {
            "email": "kai@unlisted-co.io", "firstName": "Kai\r\nBcc: all@evil.example",
            "lastName": "Lee\x00\x07", "title": "VP\nOps", "company": {"name": "North\r\nwind"}}},
        {**who, "type": "track", "event": "Demo Requested"},
    ]}  # fmt: skip
    sent = client.post("/v1/batch", json=batch, auth=(make_key(Role.INGEST), ""))
    assert sent.status_code == 200, sent.text
    run_worker(app)
    [mail] = mailbox.messages
    assert str(mail["Subject"]) == "lead.sales_ready: Kai Bcc: all@evil.example Lee at North wind"
    assert mail["Bcc"] is None
    [part] = [p for p in mail.walk() if not p.is_multipart()]
    text = str(part.get_payload(decode=True), "utf-8")
    assert text.splitlines()[:2] == ["VP Ops at North wind", "Why: Demo requested: Demo Requested"]
    shown = client.get("/api/leads/kai@unlisted-co.io", headers=bearer(make_key(Role.ADMIN)))
    lead = shown.json()
    assert (lead["name"], lead["title"]) == ("Kai Bcc: all@evil.example Lee", "VP Ops")
    assert lead["account"]["name"] == "North wind"  # stored on one line, as every path stores it
