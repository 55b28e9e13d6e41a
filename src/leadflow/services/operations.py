"""Readiness and lag: is this server ready for traffic, and how far behind are the workers."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from leadflow.repositories import operations

HEARTBEAT_LIMIT = timedelta(seconds=60)  # workers beat every sweep (5 s)


@cache
def expected_heads() -> frozenset[str]:
    """The migration heads this code ships with."""
    from alembic.script import ScriptDirectory

    from leadflow.models.db import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def readiness(session: Session, now: datetime) -> dict[str, Any]:
    """Each check with ok/reason; `ready` only when all pass."""
    checks: dict[str, dict[str, Any]] = {}
    missing = sorted(expected_heads() - operations.applied_migrations(session))
    checks["migrations"] = (
        {"ok": True} if not missing
        else {"ok": False, "reason": f"not applied: {', '.join(missing)} (run leadflow init)"}
    )  # fmt: skip
    beat = operations.latest_beat(session)
    if beat is None:
        checks["worker"] = {"ok": False, "reason": "no worker has reported yet"}
    else:
        age = (now - beat).total_seconds()
        fresh = age <= HEARTBEAT_LIMIT.total_seconds()
        checks["worker"] = {"ok": fresh, "last_heartbeat_seconds_ago": round(age, 1)}
        if not fresh:
            checks["worker"]["reason"] = f"no worker heartbeat for {age:.0f} s"
    checks["database"] = {"ok": True, "engine": session.get_bind().dialect.name}
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}


def lag(session: Session, now: datetime) -> dict[str, float]:
    """Seconds the oldest waiting alert and the oldest unswept SLA deadline have waited."""
    alert = operations.oldest_undelivered(session)
    overdue = operations.oldest_overdue(session, now)
    return {
        "alert": max(0.0, (now - alert).total_seconds()) if alert else 0.0,
        "sla": max(0.0, (now - overdue).total_seconds()) if overdue else 0.0,
    }


def heartbeat(session: Session, name: str, now: datetime, started_at: datetime) -> None:
    """A worker reports it is alive (and forgets workers silent for a day)."""
    operations.beat(session, name, now=now, started_at=started_at)
    operations.forget_workers_before(session, now - timedelta(days=1))
