"""Trained predictive models: versions, the active one, and adding a new active version."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadflow.models.prediction import PredictiveModel


def versions(session: Session) -> list[PredictiveModel]:
    """Every trained model, oldest first."""
    return list(session.scalars(select(PredictiveModel).order_by(PredictiveModel.version)))


_ACTIVE = select(PredictiveModel).where(PredictiveModel.active.is_(True))  # built once: per event


def active(session: Session) -> PredictiveModel | None:
    """The model in use, if any."""
    return session.scalar(_ACTIVE)


def add(session: Session, model: PredictiveModel, *, active: bool) -> PredictiveModel:
    """Store the model as the next version; when `active`, the only active one."""
    model.version = int(session.scalar(select(func.max(PredictiveModel.version))) or 0) + 1
    if active:
        session.execute(update(PredictiveModel).values(active=False))
    model.active = active
    session.add(model)
    session.flush()
    return model


def latest(session: Session) -> PredictiveModel | None:
    """The newest version, served or not."""
    return session.scalar(select(PredictiveModel).order_by(PredictiveModel.version.desc()))


def get(session: Session, model_id: int) -> PredictiveModel | None:
    """The model with this id (from the session's identity map when already loaded)."""
    return session.get(PredictiveModel, model_id)
