"""What a tracking call must know before it scores, read in one statement.

Every `/v1` call asks the same few questions (which playbook is active, is one running in its
shadow, is a model serving, has anyone been erased). One statement answers them all, instead
of one round trip (and one SQLAlchemy execution, the larger cost here) each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, exists, select
from sqlalchemy.orm import Session

from leadflow.models.playbook import PlaybookVersion
from leadflow.models.prediction import PredictiveModel
from leadflow.models.privacy import Tombstone
from leadflow.repositories import _hot


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """The active playbook's content hash, the shadow version (id, hash), the serving
    model's id, and whether any person has been erased (so tombstones must be checked)."""

    playbook_hash: str | None
    shadow: tuple[int, str] | None
    model_id: int | None
    anyone_erased: bool


def _first(column: Any, where: ColumnElement[bool]) -> ScalarSelect[Any]:
    return select(column).where(where).limit(1).scalar_subquery()


# Built once: this runs for every tracking call.
_SNAPSHOT = select(
    _first(PlaybookVersion.content_hash, PlaybookVersion.active.is_(True)),
    _first(PlaybookVersion.id, PlaybookVersion.shadow.is_(True)),
    _first(PlaybookVersion.content_hash, PlaybookVersion.shadow.is_(True)),
    _first(PredictiveModel.id, PredictiveModel.active.is_(True)),
    exists(select(Tombstone.key_hash)),
)


def read(session: Session) -> LiveSnapshot:
    """The snapshot as this transaction sees it."""
    [(playbook, shadow_id, shadow_hash, model_id, erased)] = _hot.run(
        session, "live_snapshot", lambda: _SNAPSHOT, {}
    )
    shadow = (int(shadow_id), str(shadow_hash)) if shadow_id is not None else None
    return LiveSnapshot(playbook, shadow, model_id, bool(erased))
