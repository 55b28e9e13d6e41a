"""Backups refuse clearly what they cannot do."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadflow.core.errors import Invalid
from leadflow.models import backup


def test_without_pg_dump_the_message_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(Invalid, match="pg_dump not found: install the PostgreSQL client"):
        backup.backup("postgresql://someone@127.0.0.1:1/nothing", tmp_path / "b.dump")
    assert list(tmp_path.iterdir()) == []  # no half-written file left behind


def test_a_missing_database_or_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="no such database file"):
        backup.backup(f"sqlite:///{tmp_path / 'none.db'}", tmp_path / "b.db")
    with pytest.raises(Invalid, match="no such folder"):
        backup.backup(f"sqlite:///{tmp_path / 'none.db'}", tmp_path / "sub" / "b.db")
    assert list(tmp_path.iterdir()) == []
