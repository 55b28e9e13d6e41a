"""Secrets out of URLs: a channel URL (Apprise) shown as its scheme and host only."""

from __future__ import annotations

import re

URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s,;'\"<>]*")


def redact_url(url: str) -> str:
    """`slack://***`, `mailto://***@gmail.com`, `json://hooks.acme.io/***`.

    Apprise puts tokens where a host would be (`slack://TOKEN/...`), so a host is shown only
    when it looks like one (it has a dot) or follows credentials (`user:pass@host`).
    """
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not scheme:
        return "***"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    _credentials, at, host = authority.rpartition("@")
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    more = "/***" if len(rest) > len(authority) else ""
    if at:
        return f"{scheme}://***@{host}{more}"
    if "." in host:
        return f"{scheme}://{host}{more}"
    return f"{scheme}://***"


def redact_text(text: str) -> str:
    """Every URL in the text redacted (for messages that quote one)."""
    return URL.sub(lambda m: redact_url(m.group(0)), text)
