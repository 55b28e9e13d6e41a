"""Events in: Segment-compatible messages stored, attributed to leads and scored at once."""

from leadflow.repositories.live_snapshot import LiveSnapshot
from leadflow.repositories.live_snapshot import read as read_snapshot
from leadflow.services.ingest.batch import (
    IngestResult,
    Rejected,
    added,
    ingest,
    ingest_parts,
    parse_all,
    transaction_parts,
)

__all__ = [
    "IngestResult",
    "LiveSnapshot",
    "Rejected",
    "added",
    "ingest",
    "ingest_parts",
    "parse_all",
    "read_snapshot",
    "transaction_parts",
]
