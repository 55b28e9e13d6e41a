"""Single sign-on's rules, apart from the protocol: who an ID token's claims say signed in,
and which role they get."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadflow.core.errors import LeadflowError
from leadflow.core.roles import UserRole


class SsoRefused(LeadflowError):
    """The identity provider's answer does not sign anybody in; the message says why."""

    status_code = 401


@dataclass(frozen=True, slots=True)
class SsoIdentity:
    """Who the provider vouches for: a verified e-mail, a display name, and the role its claim
    maps to (None: the claim is absent or unmapped, so leadflow's own role stands)."""

    email: str
    name: str
    role: UserRole | None


def identity_from_claims(
    claims: Mapping[str, Any], role_claim: str | None, roles: Mapping[str, str]
) -> SsoIdentity:
    """The identity in an ID token's claims; SsoRefused when it has no verified e-mail.

    Users are matched by e-mail, so an unverified one could be anybody's: refused. The role
    claim may be one value or a list (groups); when it holds several values the mapping
    knows, the mapping's first such entry wins (providers list groups in no promised order).
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SsoRefused("The identity provider sent no e-mail address (ask for the email scope).")
    if claims.get("email_verified") is not True:
        raise SsoRefused(f"The identity provider has not verified {email}; leadflow cannot use it.")
    name = claims.get("name")
    return SsoIdentity(
        email=email.strip().lower(),
        name=name.strip() if isinstance(name, str) and name.strip() else email,
        role=_mapped_role(claims.get(role_claim) if role_claim else None, roles),
    )


def _mapped_role(value: Any, roles: Mapping[str, str]) -> UserRole | None:
    held = {
        str(item) for item in (value if isinstance(value, list) else [value]) if item is not None
    }
    known = {r.value for r in UserRole}
    for group, role in roles.items():  # in the mapping's order: the admin's precedence
        if group in held and role in known:
            return UserRole(role)
    return None


def check_role_map(roles: Mapping[str, str]) -> list[str]:
    """Problems with a configured claim -> role mapping (each names the bad entry)."""
    known = sorted(r.value for r in UserRole)
    return [
        f"LEADFLOW_OIDC_ROLES: {claim!r} maps to {role!r}, not one of {', '.join(known)}"
        for claim, role in roles.items()
        if role not in known
    ]
