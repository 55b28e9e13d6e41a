"""What the repository tests share: their clock (the `session` fixture is in tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
