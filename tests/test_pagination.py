import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tzzr.errors import InvalidInput
from tzzr.pagination import decode_cursor, encode_cursor, moment, row_id
from tzzr.types import INT64_MAX


def raw(value: Any, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
    return text if pad else text.rstrip("=")


def test_round_trip() -> None:
    stamp = datetime(2026, 11, 21, 14, 0, 0, 123456, tzinfo=UTC)
    cursor = encode_cursor(stamp, 42)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert decode_cursor(cursor, moment, row_id) == (stamp, 42)
    assert decode_cursor(encode_cursor(7), row_id) == (7,)


def test_the_cursors_issued_before_one_encoding_still_read() -> None:
    # entries: [isoformat with +00:00, id]; events: {"before": id}, padded
    old_entry = raw(["2024-01-01T00:00:00+00:00", 3])
    assert decode_cursor(old_entry, moment, row_id) == (datetime(2024, 1, 1, tzinfo=UTC), 3)
    assert decode_cursor(raw({"before": 9}, pad=True), row_id) == (9,)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        raw("text"),
        raw([1]),  # one part where two are read
        raw(["2024-01-01T00:00:00Z", 2**70]),
        raw(["2024-01-01T00:00:00Z", -1]),
        raw(["2024-01-01T00:00:00Z", True]),
        raw(["2024-01-01T00:00:00Z", 1.5]),
        raw(["0001-01-01T00:00:00+14:00", 1]),
        raw([20240101, 1]),
        raw({"before": 1, "more": 2}),
        "W" * 40 + "[" * 10,
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_anything_else_is_a_422_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor, moment, row_id)
    assert caught.value.field == "cursor" and "next_cursor" in caught.value.message


def test_row_ids_fit_the_column() -> None:
    assert row_id(INT64_MAX) == INT64_MAX
    with pytest.raises(ValueError):
        row_id(INT64_MAX + 1)
