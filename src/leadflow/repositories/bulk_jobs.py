"""Several bulk writes as one job: each index they set aside is rebuilt once (SQLite).

An import writes its leads, then their first scores, then their stage moves: each a bulk write
of most of `leads`, each of which would otherwise set the table's indexes aside and rebuild
them (`_rebuild.rewriting`). Within `one_job` an index is set aside at the first of them and
rebuilt once: when the job ends, when a read finds rows through it (`_bulk.by_ids`), or when a
step that reads a few rows asks (`indexes_back`).
"""

from __future__ import annotations

from leadflow.repositories._rebuild import once as one_job
from leadflow.repositories._rebuild import settle as indexes_back

__all__ = ["indexes_back", "one_job"]
