"""The tus 1.0.0 wire format (https://tus.io/protocols/resumable-upload): its headers
parsed and written, as pure functions; errors name the header to fix."""

import base64
import binascii
import re
from datetime import datetime
from email.utils import format_datetime

from tzzr.errors import InvalidInput, TzzrError

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,expiration,termination,checksum"
CHECKSUM_ALGORITHMS = "sha256"
OFFSET_TYPE = "application/offset+octet-stream"
MAX_METADATA_HEADER = 4096
METADATA_KEY = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$")  # a token, no comma or space
HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


class PreconditionFailed(TzzrError):
    """Tus-Resumable missing or a version this server does not speak (answered with Tus-Version)."""

    status = 412
    code = "tus_version"


class Gone(TzzrError):
    status = 410
    code = "gone"


class Locked(TzzrError):
    status = 423
    code = "locked"


class ChecksumMismatch(TzzrError):
    """The checksum extension's 460: this PATCH's bytes did not match Upload-Checksum."""

    status = 460
    code = "checksum_mismatch"


def check_version(value: str | None) -> None:
    if value != VERSION:
        raise PreconditionFailed(
            f"send the header 'Tus-Resumable: {VERSION}' (got {value!r}): this server speaks "
            f"tus {VERSION}",
            field="Tus-Resumable",
        )


def parse_length(value: str | None, header: str) -> int:
    """A non-negative decimal integer header (Upload-Length, Upload-Offset)."""
    if value is None or not value.strip():
        raise InvalidInput(f"the header {header} is required", field=header)
    text = value.strip()
    if not text.isdigit() or not text.isascii() or len(text) > 19:
        raise InvalidInput(f"{header} must be a non-negative integer, not {value!r}", field=header)
    return int(text)


def parse_metadata(value: str | None) -> dict[str, str]:
    """`Upload-Metadata: key base64,key2 base64,flag` -> {key: decoded text}."""
    if not value or not value.strip():
        return {}
    if len(value) > MAX_METADATA_HEADER:
        raise InvalidInput(
            f"Upload-Metadata is limited to {MAX_METADATA_HEADER} characters",
            field="Upload-Metadata",
        )
    found: dict[str, str] = {}
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        if len(parts) > 2 or not METADATA_KEY.fullmatch(parts[0]):
            raise InvalidInput(
                f"Upload-Metadata pair {pair.strip()!r} is not 'key base64-value' (keys are "
                "ASCII without spaces or commas)",
                field="Upload-Metadata",
            )
        key = parts[0]
        if key in found:
            raise InvalidInput(f"Upload-Metadata names {key!r} twice", field="Upload-Metadata")
        raw = parts[1] if len(parts) == 2 else ""
        try:
            text = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"Upload-Metadata {key!r}: the value must be base64 of UTF-8 text",
                field="Upload-Metadata",
            ) from exc
        if any(ord(c) < 32 for c in text):
            raise InvalidInput(
                f"Upload-Metadata {key!r} holds control characters", field="Upload-Metadata"
            )
        found[key] = text
    return found


def declared_sha256(metadata: dict[str, str]) -> str | None:
    """The metadata key `sha256`: the whole file's digest, hex, as the client declares it."""
    value = metadata.get("sha256")
    if value is None:
        return None
    if not HEX_DIGEST.fullmatch(value):
        raise InvalidInput(
            "Upload-Metadata sha256 must be the file's SHA-256 as 64 hexadecimal digits "
            "(base64-encoded like every metadata value)",
            field="Upload-Metadata",
        )
    return value.lower()


def parse_checksum(value: str | None) -> bytes | None:
    """`Upload-Checksum: sha256 <base64 of the 32-byte digest>` -> the digest."""
    if value is None:
        return None
    parts = value.strip().split(" ")
    if len(parts) != 2:
        raise InvalidInput(
            "Upload-Checksum must be 'sha256 <base64 digest>'", field="Upload-Checksum"
        )
    algorithm, encoded = parts
    if algorithm.lower() != "sha256":
        raise InvalidInput(
            f"Upload-Checksum algorithm {algorithm!r} is not supported: use sha256",
            field="Upload-Checksum",
        )
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise InvalidInput(
            "Upload-Checksum: the digest is not valid base64", field="Upload-Checksum"
        ) from exc
    if len(digest) != 32:
        raise InvalidInput(
            "Upload-Checksum: a sha256 digest is 32 bytes (44 base64 characters)",
            field="Upload-Checksum",
        )
    return digest


def http_date(moment: datetime) -> str:
    """RFC 9110 §5.6.7 IMF-fixdate, as Upload-Expires is written."""
    return format_datetime(moment, usegmt=True)


def encode_metadata(metadata: dict[str, str]) -> str:
    """The inverse of parse_metadata (for clients and tests)."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" if value else key
        for key, value in metadata.items()
    )
