"""Where zones' clocks go forward or back, for property tests that cluster time points there
(random moments over four years barely reach a transition)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
# Zones whose clocks go forward and back (Lord Howe by half an hour), one with a half-hour
# offset and no daylight saving, and UTC: what every such property test runs in.
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
)
DAYS = 4 * 366  # 2025 to 2028


def changes(zone: str) -> list[int]:
    """The minutes (since EPOCH) of the UTC midnights before the days a zone's offset changes
    ([0] for a zone that never changes)."""
    tz = ZoneInfo(zone)
    days = [EPOCH + timedelta(days=d, hours=12) for d in range(DAYS)]
    return [
        d * 24 * 60
        for d in range(1, len(days))
        if days[d].astimezone(tz).utcoffset() != days[d - 1].astimezone(tz).utcoffset()
    ] or [0]
