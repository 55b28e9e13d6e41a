"""`leadflow keys`: a key is shown once, alone on the last line; only its hash is stored."""

from __future__ import annotations

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
