"""Shared aliases (tzzr.types): hex digests, the integer bounds of database columns,
datetimes taken to UTC."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from tzzr.types import (
    INT32_MAX,
    INT64_MAX,
    PositiveInt32,
    PositiveInt64,
    UtcDatetime,
    is_hex_digest,
)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ab" * 32, True),
        ("AB" * 32, False),
        ("ab" * 31, False),
        ("ab" * 32 + "\n", False),
        ("g" * 64, False),
    ],
)
def test_a_hex_digest_is_64_lowercase_hex_characters(value: str, ok: bool) -> None:
    assert is_hex_digest(value) is ok


@pytest.mark.parametrize(("alias", "top"), [(PositiveInt64, INT64_MAX), (PositiveInt32, INT32_MAX)])
def test_positive_integers_stop_at_their_columns_bound(alias: Any, top: int) -> None:
    adapter: TypeAdapter[int] = TypeAdapter(alias)
    assert adapter.validate_python(1) == 1 and adapter.validate_python(top) == top
    for bad in (0, top + 1):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_a_datetime_is_taken_to_utc_and_a_naive_one_is_utc() -> None:
    adapter: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)
    madrid = datetime(2030, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert adapter.validate_python(madrid) == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert adapter.validate_python(madrid).utcoffset() == timedelta(0)
    assert adapter.validate_python("2030-01-01T12:00:00") == datetime(2030, 1, 1, 12, tzinfo=UTC)
