"""RFC 8785 (JCS) canonical JSON and the content addresses built on it."""

import hashlib
from typing import Any

import rfc8785

from tzzr.errors import InvalidInput


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 serialization of `value`; 422 for values JSON cannot carry exactly."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as exc:
        raise InvalidInput(
            f"integer {exc.args[0] if exc.args else ''} is outside the I-JSON range "
            "(±2**53); send it as a string",
            field="metadata",
        ) from exc
    except rfc8785.FloatDomainError as exc:
        raise InvalidInput(
            "NaN and Infinity cannot be canonicalized; send them as strings", field="metadata"
        ) from exc
    except rfc8785.CanonicalizationError as exc:
        raise InvalidInput(f"metadata cannot be canonicalized: {exc}", field="metadata") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def h_entrada(metadata: dict[str, Any], files: list[dict[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of `{metadata, files}` (files as name, media_type,
    sha256, size): the same capture always gets the same address."""
    return sha256_hex(canonical_json({"metadata": metadata, "files": files}))
