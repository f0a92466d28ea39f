from datetime import UTC, datetime, timedelta, timezone

import pytest

from tzzr.times import in_utc, parse_rfc3339, rfc3339, rfc3339_or_none


def test_rfc3339_is_utc_with_z() -> None:
    moment = datetime(2026, 11, 21, 14, 0, 0, 123456, tzinfo=UTC)
    assert rfc3339(moment) == "2026-11-21T14:00:00.123456Z"
    assert rfc3339(moment.replace(microsecond=0)) == "2026-11-21T14:00:00Z"


def test_rfc3339_converts_other_zones_and_takes_naive_as_utc() -> None:
    east = datetime(2026, 11, 21, 16, 0, tzinfo=timezone(timedelta(hours=2)))
    assert rfc3339(east) == "2026-11-21T14:00:00Z"
    assert rfc3339(datetime(2026, 11, 21, 14, 0)) == "2026-11-21T14:00:00Z"


def test_rfc3339_or_none() -> None:
    assert rfc3339_or_none(None) is None
    assert rfc3339_or_none(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "text",
    ["2026-11-21T14:00:00Z", "2026-11-21T14:00:00+00:00", "2026-11-21T16:00:00+02:00"],
)
def test_parse_reads_z_and_offsets(text: str) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == datetime(2026, 11, 21, 14, 0, tzinfo=UTC) and parsed.tzinfo is UTC


def test_parse_round_trips() -> None:
    moment = datetime(2026, 11, 21, 14, 0, 0, 5, tzinfo=UTC)
    assert parse_rfc3339(rfc3339(moment)) == moment
    assert parse_rfc3339("2026-11-21T14:00:00") == datetime(2026, 11, 21, 14, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-01T00:00:00Z", 1700000000, None])
def test_parse_refuses_what_is_not_a_timestamp(text: object) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)  # type: ignore[arg-type]


def test_in_utc_refuses_moments_outside_utc_years() -> None:
    with pytest.raises(ValueError, match="outside years"):
        in_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
