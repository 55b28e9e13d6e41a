"""The stable hashes erasure and the tracking API keep instead of what they hash (pure)."""

from __future__ import annotations

import hashlib


def key_hash(key: str) -> str:
    """SHA-256 of a lowercased e-mail, or of an identity key as it is (ids are case-sensitive)."""
    value = key.strip().lower() if "@" in key else key.strip()
    return hashlib.sha256(f"leadflow-person:{value}".encode()).hexdigest()


def message_hash(message_id: str) -> str:
    """SHA-256 of a tracking message's id as sent: the id of a message acknowledged and not
    kept is remembered by it (a client may put anything in an id, an address too)."""
    return hashlib.sha256(f"leadflow-message:{message_id}".encode()).hexdigest()
