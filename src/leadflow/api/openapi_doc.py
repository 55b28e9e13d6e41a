"""The OpenAPI document: /v1 described by hand (its endpoints read the raw body), keys declared."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from leadflow.core.segment import MAX_ID, MAX_NAME, TYPES

_ID = {"type": "string", "maxLength": MAX_ID}
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601"}
_OBJECT = {"type": "object", "additionalProperties": True}
_FIELDS: dict[str, Any] = {
    "type": {"type": "string", "enum": list(TYPES)},
    "userId": _ID,
    "anonymousId": _ID,
    "messageId": {**_ID, "description": "For deduplication (per write key)"},
    "event": {"type": "string", "maxLength": MAX_NAME, "description": "track: the event"},
    "name": {"type": "string", "maxLength": MAX_NAME, "description": "page/screen: the name"},
    "properties": _OBJECT,
    "traits": _OBJECT,
    "context": _OBJECT,
    "integrations": _OBJECT,
    "groupId": {**_ID, "description": "group: the company (a domain is best)"},
    "previousId": {**_ID, "description": "alias: the id this one replaces"},
    "timestamp": _TIME,
    "originalTimestamp": _TIME,
    "sentAt": {**_TIME, "description": "The sender's clock when sent (skew correction)"},
    "writeKey": {"type": "string", "description": "When not sent as the HTTP Basic user"},
}
_REQUIRED = {"track": ["event"], "group": ["groupId"], "alias": ["userId", "previousId"]}
_WHO = [{"required": ["userId"]}, {"required": ["anonymousId"]}]
_ACK = {
    "type": "object",
    "required": ["success", "stored", "duplicates", "rejected"],
    "properties": {
        "success": {"type": "boolean"},
        "stored": {
            "type": "integer",
            "minimum": 0,
            "description": "Messages new to this key, acknowledged; those about erased or "
            "do-not-track people (not kept) are counted here too, so the answer tells no one "
            "who they are",
        },
        "duplicates": {
            "type": "integer",
            "minimum": 0,
            "description": "Messages whose messageId this key sent before: changed nothing",
        },
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"index": {"type": "integer"}, "reason": {"type": "string"}},
            },
            "description": "Each invalid message of a batch, by index, with the reason",
        },
    },
}
_ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "problems": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}


def message_schema(kind: str | None) -> dict[str, Any]:
    """The JSON Schema of one message: of a kind (its path), or any kind (in a batch)."""
    required = ["type"] if kind is None else []
    schema = {"type": "object", "properties": _FIELDS, "anyOf": _WHO, "additionalProperties": True}
    return {**schema, "required": required + _REQUIRED.get(kind or "", [])}


def segment_operation(kind: str | None) -> dict[str, Any]:
    """`openapi_extra` of a /v1 route: its body, its answers and its key."""
    if kind is None:
        body: dict[str, Any] = {
            "type": "object",
            "required": ["batch"],
            "properties": {
                "batch": {"type": "array", "items": message_schema(None), "maxItems": 2500},
                "context": {**_OBJECT, "description": "Merged into every message's context"},
                "writeKey": _FIELDS["writeKey"],
            },
        }
    else:
        body = message_schema(kind)
    media = {"schema": body}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": media, "text/plain": media},
        },
        "responses": {
            "200": {
                "description": "Stored (and scored) before this answer",
                "content": {"application/json": {"schema": _ACK}},
            },
            "400": _error("Not JSON, too large, or (one call) an invalid message"),
            "401": _error("No write key, or an unknown or revoked one"),
            "403": _error("A key whose role may not send events"),
            "503": _error("The database is busy; nothing was stored, retry"),
        },
        "security": [{"writeKey": []}],
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def install(app: FastAPI) -> None:
    """Build the document once, with the error shape and both kinds of key declared."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)  # fmt: skip
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
            components["securitySchemes"] = {
                "writeKey": {"type": "http", "scheme": "basic",
                             "description": "An ingest key as the user, no password"},
                "apiKey": {"type": "http", "scheme": "bearer",
                           "description": "An API key: Authorization: Bearer KEY"},
            }  # fmt: skip
            for path, operations in doc.get("paths", {}).items():
                if path.startswith("/api/"):
                    for operation in operations.values():
                        operation.setdefault("security", [{"apiKey": []}])
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
