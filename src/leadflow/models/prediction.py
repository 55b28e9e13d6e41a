"""Trained models: versioned, with how they were measured and what they weigh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class PredictiveModel(Base):
    """A logistic scorecard over binned attributes and behaviour, as plain JSON (no pickle):
    `bins` (each a column with a range or a value), `weights`, `intercept`, `metrics`."""

    __tablename__ = "predictive_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    kind: Mapped[str]
    bins: Mapped[list[dict[str, Any]]]
    weights: Mapped[list[float]]
    intercept: Mapped[float]
    behaviours: Mapped[list[str]]
    metrics: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
