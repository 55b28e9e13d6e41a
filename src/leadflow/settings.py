"""Settings from the environment (prefix LEADFLOW_), for the server and the worker."""

from __future__ import annotations

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadflow.core.sso import check_role_map
from leadflow.models.db import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    """Every knob the server reads; each is also an environment variable, e.g. LEADFLOW_PORT."""

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Reports, the plan and the dashboard read here when set (a PostgreSQL streaming replica:
    # figures may lag the primary by the replication delay); everything else reads the primary.
    read_database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Browsers post tracking events from the company's own sites; "*" allows any origin, as the
    # Segment API does (write keys are public by design and can only send events).
    cors_origins: list[str] = ["*"]
    # Run the outbox/SLA worker inside the server process (`leadflow serve` turns it on).
    run_worker: bool = False
    # LEADFLOW_LOG_FORMAT (text or json) is read by `serve` and `worker`, which set up logging
    # before the app exists (cli/serve.py, leadflow/logs.py).
    # Single sign-on (OpenID Connect, Authorization Code with PKCE): on when the issuer, the
    # client id and the secret are set. Users are matched by verified e-mail; a role claim
    # mapped by `oidc_roles` (JSON, e.g. {"sales": "rep"}) sets the role and may create the user.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_name: str = "single sign-on"
    oidc_scopes: str = "openid email profile"
    oidc_role_claim: str | None = None
    oidc_roles: dict[str, str] = {}
    # The callback URL the provider knows, when a proxy hides the public address.
    oidc_redirect_url: str | None = None

    @field_validator("oidc_roles")
    @classmethod
    def _known_roles(cls, roles: dict[str, str]) -> dict[str, str]:
        problems = check_role_map(roles)
        if problems:
            raise ValueError("; ".join(problems))
        return roles

    @property
    def sso_enabled(self) -> bool:
        """Whether the sign-in page offers single sign-on."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)
