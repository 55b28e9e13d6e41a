"""Events in: Segment-compatible messages stored, attributed to leads and scored at once."""

from leadflow.services.ingest.batch import IngestResult, Rejected, ingest, parse_all

__all__ = ["IngestResult", "Rejected", "ingest", "parse_all"]
