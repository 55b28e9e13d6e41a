"""Settings from the environment (prefix LEADFLOW_), for the server and the worker."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from leadflow.models.db import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    """Every knob the server reads; each is also an environment variable, e.g. LEADFLOW_PORT."""

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    # Browsers post tracking events from the company's own sites; "*" allows any origin, as the
    # Segment API does (write keys are public by design and can only send events).
    cors_origins: list[str] = ["*"]
    # Run the outbox/SLA worker inside the server process (`leadflow serve` turns it on).
    run_worker: bool = False
    # LEADFLOW_LOG_FORMAT (text or json) is read by `serve` and `worker`, which set up logging
    # before the app exists (cli/serve.py, leadflow/logs.py).
