"""The HTTP interface: the Segment-compatible tracking API (/v1) and the REST API (/api)."""
