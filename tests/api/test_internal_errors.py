"""A 500 is logged with an error id, the exception's type and where: never its SQL parameters."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from leadflow.api.deps import DbSession

SECRET_EMAIL = "kate.private@victim.test"


@pytest.fixture
def everything_logged() -> Iterator[list[str]]:
    """Every record of every logger at DEBUG, formatted with its traceback if it has one."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(logging.Formatter("%(name)s %(message)s").format(record))

    handler = Keep(logging.DEBUG)
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "leadflow")]
    before = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield lines
    for lg, (level, _) in zip(loggers, before, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def _failing_route(app: FastAPI) -> None:
    def lookup(session: DbSession) -> dict[str, str]:
        # A real database error whose statement carries an e-mail as a parameter.
        session.execute(text("SELECT * FROM no_such_table WHERE email = :e"), {"e": SECRET_EMAIL})
        return {}

    app.add_api_route("/api/_fails", lookup, methods=["GET"])


def test_a_500_logs_an_error_id_and_no_sql_parameters(
    app: FastAPI, live_url: str, everything_logged: list[str]
) -> None:
    _failing_route(app)
    answer = httpx.get(f"{live_url}/api/_fails", timeout=30)
    assert answer.status_code == 500
    message = answer.json()["error"]["message"]
    assert "internal error (id " in message
    error_id = message.split("(id ")[1].split(")")[0]
    logged = "\n".join(everything_logged)
    assert SECRET_EMAIL not in logged
    assert SECRET_EMAIL not in answer.text
    ours = [line for line in everything_logged if error_id in line]
    assert ours, logged
    assert "Error at test_internal_errors.py:" in ours[0]  # the type and where
