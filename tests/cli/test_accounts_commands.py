"""`leadflow accounts ambiguous|merge`, and `leads show` saying how a lead met its account."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run, as_json


def test_accounts_ambiguous_merge_and_leads_show(initialised: Run, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "email,company\n"
        "a@acme.com,Acme Inc\n"
        "b@acme.de,ACME GmbH\n"
        "c@gmail.com,Acme\n"
        "d@gmail.com,Acme Incorporated Labs\n"
        "e@gmail.com,ACME Inc.\n"
    )
    assert initialised("import", "leads", str(leads)).exit_code == 0
    listed = as_json(initialised("accounts", "ambiguous", "--json"))
    assert {r["email"] for r in listed} == {"c@gmail.com", "e@gmail.com"}
    text = initialised("accounts", "ambiguous")
    assert text.exit_code == 0 and "2 leads to check" in text.stdout
    merged = initialised("accounts", "merge", "acme.de", "acme.com", "--actor", "ana")
    assert merged.exit_code == 0, merged.output
    assert "merged acme.de into acme.com: 1 lead moved" in merged.stdout
    shown = initialised("leads", "show", "b@acme.de")
    assert "account match: merged: account acme.de merged into acme.com" in shown.stdout
    again = initialised("accounts", "merge", "acme.de", "acme.com")
    assert again.exit_code == 1 and "no account with domain 'acme.de'" in again.stderr
