"""Who an ID token's claims sign in, and with which role (no provider needed)."""

from __future__ import annotations

import pytest

from leadflow.core.roles import UserRole
from leadflow.core.sso import SsoRefused, check_role_map, identity_from_claims

ROLES = {"sales": "rep", "sales-managers": "manager", "typo": "boss"}


def test_a_verified_email_is_the_identity_lowercased() -> None:
    found = identity_from_claims(
        {"email": " Ana@Acme.TEST", "email_verified": True, "name": "Ana"}, None, {}
    )
    assert (found.email, found.name, found.role) == ("ana@acme.test", "Ana", None)


@pytest.mark.parametrize(
    "claims",
    [{}, {"email": 42, "email_verified": True}, {"email": "ana@acme.test"},
     {"email": "ana@acme.test", "email_verified": "true"}],
)  # fmt: skip
def test_no_verified_email_is_refused(claims: dict[str, object]) -> None:
    with pytest.raises(SsoRefused):
        identity_from_claims(claims, "groups", ROLES)


@pytest.mark.parametrize(
    ("groups", "role"),
    [("sales", UserRole.REP), (["staff", "sales-managers"], UserRole.MANAGER),
     (["typo"], None), (None, None), ([], None), ("unknown", None)],
)  # fmt: skip
def test_a_mapped_claim_value_is_the_role(groups: object, role: UserRole | None) -> None:
    claims = {"email": "a@b.test", "email_verified": True, "groups": groups}
    assert identity_from_claims(claims, "groups", ROLES).role == role


@pytest.mark.parametrize("groups", [["sales", "sales-managers"], ["sales-managers", "sales"]])
def test_in_several_mapped_groups_the_mappings_order_decides(groups: list[str]) -> None:
    # Before: the claim's first mapped value won, and identity providers list groups in no
    # promised order, so the same person signed in as a rep one day and a manager the next.
    ordered = {"sales-managers": "manager", "sales": "rep"}  # the mapping lists the first first
    claims = {"email": "a@b.test", "email_verified": True, "groups": groups}
    assert identity_from_claims(claims, "groups", ordered).role == UserRole.MANAGER
    reverse = dict(reversed(ordered.items()))
    assert identity_from_claims(claims, "groups", reverse).role == UserRole.REP


def test_a_mapping_to_no_role_is_named() -> None:
    assert check_role_map(ROLES) == [
        "LEADFLOW_OIDC_ROLES: 'typo' maps to 'boss', not one of admin, manager, marketing, rep"
    ]
