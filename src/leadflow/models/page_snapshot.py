"""Figures the pages show that are too costly to compute per request, kept by the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.models.db import Base


class PageSnapshot(Base):
    """One computed figure set (`dashboard`, `visits`) as it stood at `as_of`: plain JSON
    (aggregates only, no person's data), replaced whole at each refresh."""

    __tablename__ = "page_snapshots"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    as_of: Mapped[datetime]
    took_ms: Mapped[int]  # how long computing it took: refreshes are spaced by it
    content: Mapped[dict[str, Any]]
