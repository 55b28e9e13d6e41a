"""What an alert says to a person (chat, e-mail, the in-app toast): times as people read them."""

from __future__ import annotations

from leadflow.core.alert_text import summary


def _sales_ready(due: str | None) -> dict[str, object]:
    return {
        "type": "lead.sales_ready",
        "data": {
            "lead": {"id": 7, "email": "lena@contoso.example", "name": "Lena Whitfield",
                     "title": "Head of Operations", "company": "Contoso"},
            "why": {"reason": "Demo requested", "score": {"total": 127.57},
                    "top_contributions": [{"label": "Requested a demo", "points": 40}]},
            "sla_due_at": due,
        },
    }  # fmt: skip


def test_the_deadline_reads_as_a_time_not_a_timestamp() -> None:
    title, text = summary(_sales_ready("2026-11-30T11:56:45.424695+00:00"))
    assert title == "lead.sales_ready: Lena Whitfield at Contoso"
    assert "Due: 2026-11-30 11:56 UTC" in text.splitlines()


def test_a_deadline_with_an_offset_is_told_in_utc_and_none_as_none() -> None:
    assert "Due: 2026-11-30 10:56 UTC" in summary(_sales_ready("2026-11-30T11:56:00+01:00"))[1]
    assert "Due: no deadline" in summary(_sales_ready(None))[1]
    assert "Due: soon" in summary(_sales_ready("soon"))[1]  # not a time: as it came


def test_an_sla_alert_says_when_it_was_due() -> None:
    payload = {
        "type": "sla.breached",
        "data": {
            "email": "lena@contoso.example",
            "minutes_late": 12,
            "sla_due_at": "2026-11-30T11:56:45Z",
            "team": "inbound",
        },
    }
    title, text = summary(payload)
    assert title == "sla.breached: lena@contoso.example (12 minutes past the SLA)"
    assert text.splitlines()[0] == "Was due: 2026-11-30 11:56 UTC"
