"""Accounts repository: upsert by domain, lookups, bulk score updates."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadflow.repositories import accounts
from tests.repositories.conftest import NOW


def _row(domain: str, **fields: object) -> dict[str, object]:
    return {"domain": domain, "name": domain, "created_at": NOW, "updated_at": NOW, **fields}


def test_upsert_inserts_new_and_merges_existing(session: Session) -> None:
    first = [_row("Acme.com", industry="Software", attributes={"plan": "pro"})]
    assert accounts.upsert_many(session, first) == 1
    again = [
        _row("acme.com", industry=None, employees=120, attributes={"region": "EU"}),
        _row("globex.com"),
    ]
    assert accounts.upsert_many(session, again) == 2
    acme = accounts.get_by_domain(session, "ACME.COM")
    assert acme is not None
    session.refresh(acme)
    assert (acme.domain, acme.industry, acme.employees) == ("acme.com", "Software", 120)
    assert acme.attributes == {"plan": "pro", "region": "EU"}
    assert [a.domain for a in accounts.list_all(session)] == ["acme.com", "globex.com"]


def test_fill_only_keeps_stored_values(session: Session) -> None:
    accounts.upsert_many(session, [_row("acme.com", name="Acme Inc", industry=None)])
    accounts.upsert_many(
        session, [_row("acme.com", name="acme.com", industry="Retail")], fill_only=True
    )
    acme = accounts.get_by_domain(session, "acme.com")
    assert acme is not None
    session.refresh(acme)
    assert (acme.name, acme.industry) == ("Acme Inc", "Retail")


def test_ids_by_domain_and_score_updates(session: Session) -> None:
    accounts.upsert_many(session, [_row("a.com"), _row("b.com")])
    ids = accounts.ids_by_domain(session)
    assert set(ids) == {"a.com", "b.com"}
    assert accounts.ids_by_domain(session, ["B.com", "zzz.com"]) == {"b.com": ids["b.com"]}
    accounts.update_scores_bulk(
        session,
        [
            {
                "id": ids["a.com"],
                "fit": 10.0,
                "engagement": 5.5,
                "total": 15.5,
                "engaged_leads": 2,
                "tier": "top",
            }
        ],
    )
    account = accounts.get(session, ids["a.com"])
    assert account is not None
    session.refresh(account)
    assert (account.total, account.engaged_leads, account.tier) == (15.5, 2, "top")


def test_the_account_for_a_domain_is_what_upsert_and_lookup_give(session: Session) -> None:
    """`id_for_domain` (a new person's first event) agrees with `upsert_many` followed by
    `ids_by_domain`: an existing account is found and left as it is, a merged account's old
    domain leads to the account it joined, and a new domain gets an account named by it."""
    accounts.upsert_many(session, [_row("acme.com", name="Acme Inc", industry="Retail")])
    accounts.upsert_many(session, [_row("globex.com")])
    acme = accounts.ids_by_domain(session, ["acme.com"])["acme.com"]
    globex = accounts.get_by_domain(session, "globex.com")
    assert globex is not None
    accounts.keep_alias(session, globex, acme, NOW)
    session.delete(globex)
    session.flush()

    assert accounts.id_for_domain(session, "ACME.com", NOW) == acme
    assert accounts.id_for_domain(session, "globex.com", NOW) == acme
    new = accounts.id_for_domain(session, "initech.com", NOW)
    assert new not in (acme, None)
    assert accounts.id_for_domain(session, "initech.com", NOW) == new
    assert accounts.ids_by_domain(session, ["initech.com", "globex.com"]) == {
        "initech.com": new, "globex.com": acme}  # fmt: skip
    stored = {a.domain: (a.name, a.industry) for a in accounts.list_all(session)}
    assert stored == {"acme.com": ("Acme Inc", "Retail"), "initech.com": ("initech.com", None)}
