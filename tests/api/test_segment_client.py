"""The real, unmodified Segment Python library pointed at a running leadflow."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from segment.analytics import Client
from sqlalchemy import func, select

from leadflow.core.roles import Role
from leadflow.models.event import Event
from leadflow.models.lead import Lead


def test_the_segment_python_library_changes_the_leads_score(
    app: FastAPI, live_url: str, make_key: Callable[[Role], str]
) -> None:
    errors: list[Exception] = []
    client = Client(
        make_key(Role.INGEST),
        host=live_url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, _batch: errors.append(error),
    )
    client.identify(
        "user-77",
        {
            "email": "hana@northwind-logistics.com",
            "firstName": "Hana",
            "title": "Head of Operations",
        },
        anonymous_id="anon-77",
    )
    client.page(
        "user-77", name="Pricing", properties={"path": "/pricing", "url": "https://x.io/pricing"}
    )
    client.track("user-77", "Webinar Attended", {"webinar": "Ops at scale"})
    client.flush()
    assert errors == []
    with app.state.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "hana@northwind-logistics.com"))
        assert lead is not None
        assert lead.first_name == "Hana"
        rules = {c["rule"]: c["points"] for c in lead.contributions}
        assert rules["webinar"] == 15.0 and rules["pricing_page"] == 10.0
        assert lead.engagement > 25.0
        events = session.scalar(select(func.count()).where(Event.lead_id == lead.id))
        assert events == 3

    # The library retries with the same message ids: sending them again stores nothing.
    client.track("user-77", "Webinar Attended", {"webinar": "Ops at scale"}, message_id="fixed-1")
    client.track("user-77", "Webinar Attended", {"webinar": "Ops at scale"}, message_id="fixed-1")
    client.flush()
    with app.state.sessions() as session:
        assert session.scalar(select(func.count()).where(Event.message_id == "fixed-1")) == 1
