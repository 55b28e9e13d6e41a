"""Repositories: every SQL statement lives here, one module per aggregate; none commits."""

# Registers the session event that keeps closed leads' roll-ups in step with the leads'
# own columns, whichever repository a process imports first.
from leadflow.repositories import closed_rollups as _closed_rollups  # noqa: F401
