"""The web pages use the API tests' app, live server and keys."""

from tests.api.conftest import app, client, live_url, make_key

__all__ = ["app", "client", "live_url", "make_key"]
