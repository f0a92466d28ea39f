"""Cursor pagination: a page's `next_cursor` is the sort key of its last row, as a JSON
array in unpadded URL-safe base64; the next page starts after it. Opaque to clients."""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tzzr.errors import InvalidInput
from tzzr.times import parse_rfc3339, rfc3339
from tzzr.types import INT64_MAX

STALE = "the cursor is not one this server issued; pass next_cursor from a previous page"

KeyPart = int | str | datetime


def encode_cursor(*key: KeyPart) -> str:
    """The cursor after a row whose sort key is `key` (datetimes as RFC 3339)."""
    parts = [rfc3339(part) if isinstance(part, datetime) else part for part in key]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def row_id(value: Any) -> int:
    """A row id in a cursor: a positive integer a database column holds (a forged 2**70
    would overflow SQLite's driver)."""
    if type(value) is not int or not 0 < value <= INT64_MAX:
        raise ValueError("not a row id")
    return value


def moment(value: Any) -> datetime:
    """A timestamp in a cursor, aware and in UTC: the columns want a zone."""
    return parse_rfc3339(value)


def decode_cursor(cursor: str, *parts: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The key `encode_cursor` wrote, each part read by its parser (`row_id`, `moment`);
    a 422 naming `cursor` for anything else, a forged `[[[[…]]]]` included."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        # Event cursors before one encoding was {"before": id}: still read.
        if isinstance(key, dict) and key.keys() == {"before"}:
            key = [key["before"]]
        if not isinstance(key, list) or len(key) != len(parts):
            raise ValueError("not a key of this listing")
        return tuple(parse(part) for parse, part in zip(parts, key, strict=True))
    except (ValueError, TypeError, RecursionError, binascii.Error) as exc:
        raise InvalidInput(STALE, field="cursor") from exc
