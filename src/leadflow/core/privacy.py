"""The stable hash an erased person's tombstone keeps (pure)."""

from __future__ import annotations

import hashlib


def key_hash(key: str) -> str:
    """SHA-256 of a lowercased e-mail, or of an identity key as it is (ids are case-sensitive)."""
    value = key.strip().lower() if "@" in key else key.strip()
    return hashlib.sha256(f"leadflow-person:{value}".encode()).hexdigest()
