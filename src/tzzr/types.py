"""Aliases shared across the package."""

import re
from typing import Annotated, Literal, TypeAlias

from pydantic import Field

HexDigest: TypeAlias = str
"""A SHA-256 digest as 64 lowercase hexadecimal characters."""

Role: TypeAlias = Literal["ingest", "read", "admin"]
ROLES: tuple[Role, ...] = ("ingest", "read", "admin")

HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")

# What a database integer column holds (SQLite's INTEGER, PostgreSQL's BIGINT): an int
# from a request outside it is a 422 naming the field, never an overflow in the driver.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Int64: TypeAlias = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
NonNegativeInt64: TypeAlias = Annotated[int, Field(ge=0, le=INT64_MAX)]
PositiveInt64: TypeAlias = Annotated[int, Field(ge=1, le=INT64_MAX)]


def is_hex_digest(value: str) -> bool:
    return HEX_DIGEST.fullmatch(value) is not None
