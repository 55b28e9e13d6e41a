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


def _explained(total: float, points: list[float]) -> list[str]:
    payload = _sales_ready(None)
    why = {"reason": "Demo requested", "score": {"total": total},
           "top_contributions": [{"label": f"rule {k}", "points": p} for k, p in
                                 enumerate(points)]}  # fmt: skip
    payload["data"]["why"] = why  # type: ignore[index]
    return summary(payload)[1].splitlines()


def test_the_reasons_add_up_to_the_score_they_explain() -> None:
    # The top five of seven rules (40, 20, 10, 5, 2.97; 2.28 and -15 not listed): what the
    # others add is said, so the lines sum to the total, to the hundredth.
    lines = _explained(65.25, [40, 20, 10, 5, 2.97])
    assert lines[-4:] == ["- rule 3: +5.00", "- rule 4: +2.97",
                          "- the other rules: -12.72", "= total 65.25"]  # fmt: skip
    assert "- rule 0: +40.00" in lines
    listed = [line for line in lines if line.startswith("- ")]
    assert sum(round(float(line.rsplit(": ", 1)[1]) * 100) for line in listed) == 6525


def test_all_the_reasons_listed_need_no_other_line() -> None:
    lines = _explained(71.0, [40, 20, 10, 1])
    assert lines[-2:] == ["- rule 3: +1.00", "= total 71.00"]
    assert not any("other rules" in line for line in lines)
    assert _explained(0.3, [0.1, 0.2])[-1] == "= total 0.30"  # sums of hundredths, exactly


def test_a_lead_handed_over_says_whose_it_was_and_why_and_the_loser_who_has_it() -> None:
    payload = _sales_ready("2026-11-30T11:56:00+00:00")
    payload["type"] = "lead.assigned"
    payload["data"].update(reassigned=True, previous_owner="ana@flowline.io",  # type: ignore[attr-defined]
                           assignment_reason="reassigned by max@flowline.io")  # fmt: skip
    lines = summary(payload)[1].splitlines()
    assert "Reassigned from ana@flowline.io: reassigned by max@flowline.io" in lines
    payload["data"]["previous_owner"] = None  # type: ignore[index]
    assert "Reassigned from the team queue: reassigned by max@flowline.io" in (
        summary(payload)[1].splitlines()
    )
    first_hand_off = summary(_sales_ready(None))[1].splitlines()
    assert not any(line.startswith("Reassigned") for line in first_hand_off)
    escalated = {"type": "sla.escalated", "data": {
        "email": "lena@contoso.example", "minutes_late": 121, "sla_due_at": None,
        "team": "inbound", "action": "reassign", "reassigned": True,
        "reassigned_to": "ben@flowline.io"}}  # fmt: skip
    assert summary(escalated)[1].splitlines()[-2:] == [
        "Escalation: reassign", "Now with: ben@flowline.io"]  # fmt: skip


def test_a_previous_owner_is_told_who_has_the_lead_now_and_why() -> None:
    lead = {"id": 7, "email": "lena@contoso.example", "name": "Lena Whitfield",
            "company": "Contoso"}  # fmt: skip
    payload = {"type": "lead.reassigned", "data": {
        "lead": lead, "previous_owner": "ana@flowline.io", "reassigned_to": "ben@flowline.io",
        "reason": "reassigned by max@flowline.io"}}  # fmt: skip
    assert summary(payload) == (
        "lead.reassigned: Lena Whitfield at Contoso",
        "Now with: ben@flowline.io\nWhy: reassigned by max@flowline.io",
    )
    payload["data"]["reassigned_to"] = None  # type: ignore[index]
    assert summary(payload)[1].splitlines()[0] == "Now with: the team queue"
