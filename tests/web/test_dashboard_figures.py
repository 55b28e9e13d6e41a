"""The dashboard shows what the reports say: its funnel and breakdowns come from one pass
over the leads and its attribution chart from the linear model alone, so every chart is
checked against the reports the API serves, on a small demo company."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.core.report_math import Cohort
from leadflow.services import demo, playbooks, reports
from leadflow.services.reports import snapshots
from leadflow.web.pages import _charts
from tests.web.test_security import signed_in

B2B = Path(__file__).resolve().parents[2] / "examples" / "b2b_saas.yaml"


def _as_reported(app: FastAPI, now: datetime, period: str | None) -> dict[str, Any]:
    """The dashboard's data, each part from the report registry (the API's and CLI's way)."""
    with app.state.sessions() as session:
        book = playbooks.active_playbook(session)

        def run(name: str, by: str = "source") -> dict[str, Any]:
            options = reports.Options(period=period, by=by)
            return reports.run(session, book, name, Cohort(), options, now)

        data = {"funnel": run("funnel"), "speed": run("speed"),
                "attribution": run("attribution"), "calibration": run("calibration"),
                "drift": run("drift")}  # fmt: skip
        for part, by in (("sources", "source"), ("campaigns", "campaign"),
                         ("personas", "persona"), ("bands", "score_band")):  # fmt: skip
            data[part] = run("conversion", by)
    return data


def _charts_on(page: str) -> dict[str, Any]:
    start = page.index('<script id="chart-data" type="application/json">')
    return dict(json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)]))


def test_the_dashboard_charts_what_the_reports_say(app: FastAPI, client: TestClient) -> None:
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        demo.build(session, B2B.read_text(), leads=150, now=now, seed=5, train=False)
    signed_in(app, client, "max@flowline.io", "manager")
    for period in (None, f"{now.year}"):
        page = client.get("/dashboard" + (f"?period={period}" if period else "")).text
        expected = _as_reported(app, now, period)
        shown = _charts_on(page)
        assert shown == json.loads(json.dumps(_charts(expected)))
        assert len(shown["campaigns"]["labels"]) > 1 and len(shown["attribution"]["labels"]) > 1
        assert sum(shown["funnel"]["values"]) > 0
        revenue = f"{expected['funnel']['revenue']:,.0f}"
        assert f'<div class="l">Won revenue</div><div class="n">{revenue}</div>' in page


def test_the_dashboard_and_plan_serve_the_workers_snapshot_with_its_time(
    app: FastAPI, client: TestClient
) -> None:
    now = datetime.now(UTC)
    with app.state.sessions() as session, session.begin():
        demo.build(session, B2B.read_text(), leads=60, now=now, seed=5, train=False)
        snapshots.refresh(session, playbooks.active_playbook(session), now)
    signed_in(app, client, "max@flowline.io", "manager")
    page = client.get("/dashboard").text
    assert f"All-time figures as of {now:%Y-%m-%d %H:%M} UTC" in page
    assert _charts_on(page) == json.loads(json.dumps(_charts(_as_reported(app, now, None))))
    year = client.get(f"/dashboard?period={now.year}").text  # a period: computed when asked
    assert "All-time figures as of" not in year
    plan = client.get("/plan?goal=1000000&deal_size=20000&rates=visit%3D0.05").text
    assert f"Visitors counted as of {now:%Y-%m-%d %H:%M} UTC" in plan
