"""`leadflow keys`: a key is shown once, alone on the last line; only its hash is stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from leadflow.models.api_key import ApiKey
from leadflow.models.db import make_engine, make_session_factory
from leadflow.services import keys
from tests.cli.conftest import Run


def test_create_prints_the_key_alone_on_the_last_line(initialised: Run, database_url: str) -> None:
    result = initialised("keys", "create", "--role", "sales", "--name", "crm")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("lf_sales_") and " " not in secret
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        stored = session.scalars(select(ApiKey)).one()
        assert stored.role == "sales" and stored.name == "crm"
        assert stored.key_hash == keys.digest(secret)
        assert secret not in (stored.key_hash, stored.prefix)
    engine.dispose()
    listed = initialised("keys", "list")
    assert "crm" in listed.stdout and secret not in listed.stdout


def test_unknown_role_is_refused_with_the_roles_there_are(initialised: Run) -> None:
    result = initialised("keys", "create", "--role", "boss")
    assert result.exit_code == 1
    assert "unknown role 'boss'; roles are: ingest, marketing, sales, admin" in result.stderr


def test_revoke_unknown_key_is_a_clear_error(initialised: Run) -> None:
    result = initialised("keys", "revoke", "99")
    assert result.exit_code == 1
    assert "no API key with id 99" in result.stderr


def test_the_list_shows_times_to_the_minute_and_the_prefix_whole(
    initialised: Run, database_url: str
) -> None:
    """`keys list` printed the creation time as Python's str (microseconds and offset), so
    at 80 columns it wrapped the time and cut the prefix to 'lf_admin_Lx95.…'."""
    made = initialised("keys", "create", "--role", "admin", "--name", "ops")
    assert made.exit_code == 0, made.output
    assert initialised("keys", "revoke", "1").exit_code == 0
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        key = session.scalars(select(ApiKey)).one()
        prefix, created, revoked = key.prefix, key.created_at, key.revoked_at
    engine.dispose()
    assert created is not None and revoked is not None
    listed = initialised("keys", "list")
    assert listed.exit_code == 0, listed.output
    assert "." not in listed.stdout.replace(f"{prefix}...", ""), listed.stdout  # no fractions
    cells = row_cells(listed.stdout, " ops ")
    assert cells[3] == f"{prefix}...", listed.stdout  # whole, on one line
    assert (cells[4], cells[6]) == (f"{created:%Y-%m-%d %H:%M}", f"{revoked:%Y-%m-%d %H:%M}")
    assert created.utcoffset() == timedelta(0) and "(UTC)" in listed.stdout


def row_cells(table: str, marker: str) -> list[str]:
    """The cells of the table row whose first line holds `marker`, each cell's lines joined."""
    lines = table.splitlines()
    start = next(n for n, line in enumerate(lines) if marker in line)
    cells = [cell.strip() for cell in lines[start].split("│")[1:-1]]
    for line in lines[start + 1 :]:
        if not line.startswith("│") or line.split("│")[1].strip():  # a border or the next row
            break
        parts = [cell.strip() for cell in line.split("│")[1:-1]]
        cells = [f"{a} {b}".strip() for a, b in zip(cells, parts, strict=True)]
    return cells
