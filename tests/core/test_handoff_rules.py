"""A routing's teams, and the note for a rep on a team no rule sends leads to."""

from __future__ import annotations

from leadflow.core.handoff_rules import Routing, RoutingRule


def test_a_team_no_rule_names_gets_a_note_naming_the_teams_that_are() -> None:
    routing = Routing(
        rules=[RoutingRule(id="big", team="enterprise"), RoutingRule(id="ana", rep="a@x.io")],
        fallback="inbound",
    )
    assert routing.teams() == ["enterprise", "inbound"]
    assert routing.team_note("enterprise") is None and routing.team_note("inbound") is None
    note = routing.team_note("enterprsie")
    assert note is not None and "'enterprsie'" in note and "enterprise, inbound" in note
