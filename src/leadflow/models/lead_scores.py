"""`lead_scores`: the stable, read-only view reverse-ETL tools sync into a CRM.

Its columns are a contract (README, "Living beside your CRM"): add columns, never rename or drop
one. `updated_at` moves whenever a column of the view changes, and is indexed with the id, so
"changed since" reads only the changed rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String, column, table
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeEngine

from leadflow.models.types import UTCDateTime

VIEW_COLUMNS: dict[str, TypeEngine[Any]] = {
    "lead_id": Integer(),
    "email": String(),
    "hubspot_id": String(),
    "salesforce_id": String(),
    "account_domain": String(),
    "stage": String(),
    "fit": Float(),
    "engagement": Float(),
    "total": Float(),
    "grade": String(),
    "persona": String(),
    "probability": Float(),
    "owner": String(),
    "scored_at": UTCDateTime(),
    "updated_at": UTCDateTime(),
}


def _external(system: str) -> str:
    return (
        f"(SELECT x.external_id FROM external_ids x WHERE x.lead_id = l.id"
        f" AND x.system = '{system}')"
    )


LEAD_SCORES_VIEW = f"""
CREATE VIEW lead_scores AS
SELECT l.id AS lead_id, l.email AS email,
       {_external("hubspot")} AS hubspot_id,
       {_external("salesforce")} AS salesforce_id,
       a.domain AS account_domain,
       l.stage AS stage, l.fit AS fit, l.engagement AS engagement, l.total AS total,
       l.grade AS grade, l.persona AS persona, l.probability AS probability,
       l.owner AS owner, l.scored_at AS scored_at, l.updated_at AS updated_at
FROM leads l LEFT JOIN accounts a ON a.id = l.account_id
WHERE l.email IS NOT NULL
"""

lead_scores: TableClause = table(
    "lead_scores", *(column(name, kind) for name, kind in VIEW_COLUMNS.items())
)
