"""A cell's answer as the callers keep it: its artifacts and its result JSON
(canonical, with the artifacts' addresses) as content-addressed blobs of the run's
instance, or inline with the artifacts in base64 (GRACE, which has no blob store); and
the run's metrics."""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tzzr.blobs import BlobStore
from tzzr.canonical import canonical_json, sha256_hex
from tzzr.cells.base import CellResult

SMALL = 4096  # results up to this size repeat often (the same answer to many inputs)


@dataclass(frozen=True)
class Kept:
    result: dict[str, Any]  # as stored: the cell's result plus `artifacts`
    sha256: str | None  # the stored result's blob; None inline
    artifacts: list[dict[str, Any]]  # rows for run_artifacts (name, sha256, media_type, size)


class ResultKeeper:
    """Stores answers; one per worker (it remembers the small results it stored)."""

    def __init__(self) -> None:
        # small result blobs known to be stored, by (the instance's prefix, sha256)
        self._known: set[tuple[str, str]] = set()

    def _put(self, store: BlobStore, data: bytes) -> str:
        digest = sha256_hex(data)
        key = (store.prefix, digest)
        if key not in self._known and not store.exists(digest):
            store.put(data, digest)
        if len(data) <= SMALL:
            self._known.add(key)  # skip the existence check next time
        return digest

    def into(self, store: BlobStore) -> Callable[[CellResult], Kept]:
        """How an invocation keeps its answer in `store`."""
        return lambda answer: self.keep(store, answer)

    def keep(self, store: BlobStore, answer: CellResult) -> Kept:
        artifacts = [
            {
                "name": name,
                "sha256": self._put(store, artifact.data),
                "media_type": artifact.media_type,
                "size": len(artifact.data),
            }
            for name, artifact in answer.artifacts.items()
        ]
        result = dict(answer.result)
        if artifacts:
            result["artifacts"] = {
                a["name"]: {
                    "sha256": a["sha256"],
                    "mediaType": a["media_type"],
                    "size": a["size"],
                    "url": f"/blobs/{a['sha256']}",
                }
                for a in artifacts
            }
        return Kept(result, self._put(store, canonical_json(result)), artifacts)


def inline(answer: CellResult) -> Kept:
    """The answer with its artifacts in the result, base64: nothing stored."""
    result = dict(answer.result)
    if answer.artifacts:
        result["artifacts"] = {
            name: {
                "mediaType": art.media_type,
                "size": len(art.data),
                "sha256": hashlib.sha256(art.data).hexdigest(),
                "base64": base64.b64encode(art.data).decode(),
            }
            for name, art in answer.artifacts.items()
        }
    return Kept(result, None, [])


def answer_metrics(answer: CellResult, latency_ms: float) -> dict[str, Any]:
    """A run's metrics: the measured latency, what answered, and the cell's own figures."""
    return {
        "latencyMs": latency_ms,
        "engine": answer.engine,
        "model": answer.model,
        "device": answer.device,
        **{k: v for k, v in answer.metrics.items() if k != "latencyMs"},
    }
