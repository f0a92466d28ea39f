"""Aliases shared across the package."""

import re
from typing import Literal, TypeAlias

HexDigest: TypeAlias = str
"""A SHA-256 digest as 64 lowercase hexadecimal characters."""

Role: TypeAlias = Literal["ingest", "read", "admin"]
ROLES: tuple[Role, ...] = ("ingest", "read", "admin")

HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def is_hex_digest(value: str) -> bool:
    return HEX_DIGEST.fullmatch(value) is not None
