"""Channel URLs shown without their secrets: scheme and host only."""

from __future__ import annotations

import pytest

from leadflow.core.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "slack://***"),
        ("mailto://ana:s3cret-pass@gmail.com", "mailto://***@gmail.com"),
        ("mailtos://smtp.acme.io?user=ana&pass=s3cret-pass", "mailtos://smtp.acme.io/***"),
        ("tgram://123456789:ABCdefGhIJKlmnOpQ/12315544", "tgram://***"),
        ("json://hooks.acme.io:8443/path/token123", "json://hooks.acme.io/***"),
        ("json://hooks.acme.io", "json://hooks.acme.io"),
        ("not a url", "***"),
    ],
)
def test_a_channel_url_keeps_only_its_scheme_and_host(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_urls_inside_text_are_redacted() -> None:
    text = "could not add slack://T1/B2/tok3n nor mailto://a:pw@x.io, sorry"
    assert redact_text(text) == "could not add slack://*** nor mailto://***@x.io, sorry"
