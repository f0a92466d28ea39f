"""Leaf records: canonical JSON of {"v": 1, "kind", "instance", "ref", "hash", "ts", …}."""

from datetime import UTC, datetime
from typing import Any

from tzzr.canonical import canonical_json

KINDS = ("entry", "enrichment", "attestation", "artifact", "vote", "consent")


def timestamp(value: datetime) -> str:
    """RFC 3339 UTC with microseconds, the one form leaves use."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_record(
    kind: str,
    instance: str,
    ref: str,
    digest: str,
    ts: datetime,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"leaf kind must be one of {', '.join(KINDS)}, got {kind!r}")
    record: dict[str, Any] = dict(extra or {})
    record.update(v=1, kind=kind, instance=instance, ref=ref, hash=digest, ts=timestamp(ts))
    return record


def leaf_bytes(
    kind: str,
    instance: str,
    ref: str,
    digest: str,
    ts: datetime,
    extra: dict[str, Any] | None = None,
) -> bytes:
    return canonical_json(leaf_record(kind, instance, ref, digest, ts, extra))
