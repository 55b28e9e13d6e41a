"""Trained models: versioned, with how they were measured and what they weigh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base
from leadflow.models.types import utcnow


class PredictiveModel(Base):
    """A trained model as plain JSON (no pickle), with how it was measured (`metrics`).

    kind "logistic scorecard": `bins` (each a column with a range or a value), `weights`,
    `intercept`. Kind "gradient boosting": `trees` holds the pruned LightGBM dump and how each
    column becomes a feature (`core.boosted`); `bins` and `weights` are empty. `active` marks
    the one live scoring uses; a version that lost out of sample is kept, inactive."""

    __tablename__ = "predictive_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    kind: Mapped[str]
    bins: Mapped[list[dict[str, Any]]]
    weights: Mapped[list[float]]
    intercept: Mapped[float]
    behaviours: Mapped[list[str]]
    metrics: Mapped[dict[str, Any]]
    trees: Mapped[dict[str, Any] | None]
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
