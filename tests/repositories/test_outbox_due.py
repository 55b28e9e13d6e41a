"""The worker's poll (`outbox.any_due`): due means undelivered, not given up, its attempt
time reached and nobody holding it, at the edges of each time, on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from leadflow.models.outbox import OutboxMessage
from leadflow.repositories import outbox
from tests.repositories.conftest import NOW

SECOND = timedelta(seconds=1)
TINY = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("fields", "due"),
    [
        ({"next_attempt_at": NOW}, True),
        ({"next_attempt_at": NOW - SECOND}, True),
        ({"next_attempt_at": NOW + TINY}, False),
        ({"next_attempt_at": NOW, "claimed_until": NOW - TINY}, True),
        ({"next_attempt_at": NOW, "claimed_until": NOW}, False),
        ({"next_attempt_at": NOW, "claimed_until": NOW + SECOND}, False),
        ({"next_attempt_at": NOW, "delivered_at": NOW - SECOND}, False),
        ({"next_attempt_at": NOW, "given_up_at": NOW - SECOND}, False),
    ],
)
def test_a_message_is_due_only_when_its_time_came_and_nobody_holds_it(
    session: Session, fields: dict[str, object], due: bool
) -> None:
    assert not outbox.any_due(session, NOW)
    message = OutboxMessage(alert_id="a1", event_type="lead.sales_ready", target_kind="webhook",
                            target="1", payload={}, **fields)  # fmt: skip
    session.add(message)
    session.flush()
    assert outbox.any_due(session, NOW) is due
    assert outbox.any_due(session, NOW + timedelta(days=1)) is (
        message.delivered_at is None and message.given_up_at is None
    )
