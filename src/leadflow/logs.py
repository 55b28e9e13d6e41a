"""Log lines: plain text or JSON (`LEADFLOW_LOG_FORMAT=json`), each with the request id.

The request id of the request being served lives in a context variable (set by
`api.request_ids`); every record gets it as `request_id` (None outside a request: start-up,
the worker). Nothing here decides what is logged: no line carries an e-mail, an IP address or
an event's properties because no call site logs them (CONVENTIONS.md, "The HTTP interface").
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

FORMATS = ("text", "json")
request_id: ContextVar[str | None] = ContextVar("leadflow_request_id", default=None)
TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


class RequestId(logging.Filter):
    """Puts the current request's id on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.__dict__.pop("color_message", None)  # uvicorn's copy with terminal colours
        return True


def config(log_format: str = "text", level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` document for our loggers and uvicorn's, to stderr."""
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r}: use text or json")
    formatter: dict[str, Any] = {"format": TEXT}
    if log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "default",
        "filters": ["request_id"],
    }
    loud = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestId}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": dict.fromkeys(("leadflow", "uvicorn", "uvicorn.error"), loud)
        | {"uvicorn.access": {"handlers": [], "propagate": False}},
        "root": {"handlers": ["default"], "level": "WARNING"},
    }


def configure(log_format: str = "text", level: str = "info") -> None:
    """Apply `config` to this process (the worker command; uvicorn applies it for serve)."""
    import logging.config

    logging.config.dictConfig(config(log_format, level))
