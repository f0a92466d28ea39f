"""Aliases shared across the package."""

import re
from datetime import datetime
from typing import Annotated, Literal, TypeAlias

from pydantic import AfterValidator, Field

from tzzr.times import in_utc

HexDigest: TypeAlias = str
"""A SHA-256 digest as 64 lowercase hexadecimal characters."""

Role: TypeAlias = Literal["ingest", "read", "admin"]
ROLES: tuple[Role, ...] = ("ingest", "read", "admin")

HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")

# What a database integer column holds (SQLite's INTEGER, PostgreSQL's BIGINT): an int
# from a request outside it is a 422 naming the field, never an overflow in the driver.
INT64_MAX = 2**63 - 1
PositiveInt64: TypeAlias = Annotated[int, Field(ge=1, le=INT64_MAX)]
# A block's number and a flow's version are INTEGER columns: 32 bits on PostgreSQL.
INT32_MAX = 2**31 - 1
PositiveInt32: TypeAlias = Annotated[int, Field(ge=1, le=INT32_MAX)]


UtcDatetime: TypeAlias = Annotated[datetime, AfterValidator(in_utc)]


def is_hex_digest(value: str) -> bool:
    return HEX_DIGEST.fullmatch(value) is not None
