"""Timestamps: one form in every JSON field, RFC 3339 in UTC with `Z`.

`2026-11-21T14:00:00.123456Z`, or without the fraction when it is zero: what
`datetime.isoformat` writes, with `Z` for `+00:00`. Ledger leaves and block headers are
hashed and keep their own fixed form (always six fractional digits:
`tzzr.ledger.leaves.timestamp`); nothing here may change those bytes.
"""

from datetime import UTC, datetime


def in_utc(value: datetime) -> datetime:
    """`value` in UTC (a naive one is taken as UTC). ValueError, not the OverflowError a
    database driver would raise later, for a moment past year 1 or 9999 once in UTC
    (`0001-01-01T00:00+14:00`)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the moment is outside years 1 to 9999 in UTC") from exc


def rfc3339(value: datetime) -> str:
    """RFC 3339 in UTC with `Z`; a naive `value` is taken as UTC."""
    return in_utc(value).isoformat().replace("+00:00", "Z")


def rfc3339_or_none(value: datetime | None) -> str | None:
    return None if value is None else rfc3339(value)


def parse_rfc3339(text: str) -> datetime:
    """An aware UTC datetime from RFC 3339 text (`Z` or any offset; without one, UTC).
    ValueError for anything else."""
    if not isinstance(text, str):
        raise ValueError(f"a timestamp is RFC 3339 text, not {type(text).__name__}")
    return in_utc(datetime.fromisoformat(text))
