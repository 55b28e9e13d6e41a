"""Apprise logs the URLs it loads and sends to; their tokens and passwords must not reach a log.

Importing this module puts a filter on Apprise's logger: its debug and trace records (which
dump parsed URLs field by field, tokens included) are dropped, and the URLs in the others
redacted.
"""

from __future__ import annotations

import logging

from leadflow.core.redact import redact_text


class RedactUrls(logging.Filter):
    """Drops records under WARNING; rewrites the others with URLs redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        record.msg, record.args = redact_text(record.getMessage()), None
        return True


_APPRISE = logging.getLogger("apprise")
if not any(isinstance(f, RedactUrls) for f in _APPRISE.filters):
    _APPRISE.addFilter(RedactUrls())
