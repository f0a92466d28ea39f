"""RFC 8785 (JCS) canonical JSON and the content addresses built on it."""

import hashlib
import math
import re
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


MAX_EXACT_INTEGER = 2**53 - 1
# What YAML (and a model's dump) can hold that JSON cannot; other types (a YAML
# timestamp, a model's enum) are written out as text by the model's JSON dump.
_NOT_JSON = (bytes, bytearray, memoryview, set, frozenset)


# PostgreSQL's text and JSON columns cannot hold NUL; an unpaired surrogate is not
# Unicode at all (RFC 7493 §2.1), and no driver can encode it.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = "text may not hold NUL (U+0000) or unpaired surrogates; remove them"


def _unfit(item: Any) -> str | None:
    """Why `item` (not a list or an object) is not a value I-JSON (RFC 7493 §2)
    carries exactly, or None."""
    kind = type(item)
    if kind is str:
        return UNSTORABLE_TEXT if UNSTORABLE.search(item) else None
    if kind is int:
        if -MAX_EXACT_INTEGER <= item <= MAX_EXACT_INTEGER:
            return None
        return f"integer {item} is outside the I-JSON range (±2**53); send it as a string"
    if kind is float:
        return None if math.isfinite(item) else "NaN and Infinity are not JSON; send a string"
    if isinstance(item, _NOT_JSON):
        return f"{kind.__name__} is not a JSON value; send a string, number, list or object"
    return None


def _bad_key(item: dict[Any, Any]) -> bool:
    return any(type(key) is not str or UNSTORABLE.search(key) for key in item)


def check_ijson(value: Any, field: str = "body") -> None:
    """422 naming the first place in `value` (parsed JSON or YAML, or a model's dump)
    that a JSON column, RFC 8785 or a JavaScript client cannot carry exactly: NaN,
    Infinity, integers beyond ±2**53, bytes, sets, keys that are not strings, NUL and
    unpaired surrogates in text. Iterative
    (depth is limited elsewhere); paths are built only once something is found."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if _bad_key(item):
                break
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif _unfit(item) is not None:
            break
    else:
        return
    where, why = _first_unfit(value, field)
    raise InvalidInput(f"{where}: {why}", field=where)


def _first_unfit(value: Any, field: str) -> tuple[str, str]:
    pending: list[tuple[Any, str]] = [(value, field)]
    while pending:
        item, path = pending.pop()
        kind = type(item)
        if kind is dict:
            if _bad_key(item):
                return path, f"object keys must be strings; {UNSTORABLE_TEXT}"
            prefix = "" if path == "body" else f"{path}."
            pending.extend(reversed([(v, f"{prefix}{k}") for k, v in item.items()]))
        elif kind is list or kind is tuple:
            pending.extend(reversed([(v, f"{path}[{i}]") for i, v in enumerate(item)]))
        else:
            why = _unfit(item)
            if why is not None:
                return path, why
    return field, "not a JSON value"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def h_entrada(metadata: dict[str, Any], files: list[dict[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of `{metadata, files}` (files as name, media_type,
    sha256, size): the same capture always gets the same address."""
    return sha256_hex(canonical_json({"metadata": metadata, "files": files}))
