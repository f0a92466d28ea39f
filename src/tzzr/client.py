"""A small HTTP client for `tzzr ingest --url`: streams multipart uploads, hashing the
bytes as they leave so the server's answer can be checked end to end."""

import hashlib
import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx


class _HashingReader:
    """Wraps a file: each read feeds the hash and the progress callback."""

    def __init__(self, handle: BinaryIO, progress: Callable[[int], None]) -> None:
        self._handle = handle
        self._progress = progress
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.sha256.update(data)
        self._progress(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        return self._handle.fileno()


class IngestError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
        super().__init__(f"HTTP {status}: {message or body}")
        self.status = status


def upload(
    client: httpx.Client,
    paths: list[Path],
    metadata: dict[str, Any],
    progress: Callable[[int], None],
) -> tuple[int, dict[str, Any]]:
    """POST one container; returns (status, body) for 200 and 409, raises otherwise."""
    handles = [path.open("rb") for path in paths]
    try:
        readers = [_HashingReader(h, progress) for h in handles]
        files = [
            ("file", (p.name, r, mimetypes.guess_type(p.name)[0] or "application/octet-stream"))
            for p, r in zip(paths, readers, strict=True)
        ]
        response = client.post(
            "/ingest",
            data={"metadata": json.dumps(metadata)},
            files=files,  # type: ignore[arg-type]
        )
        body = response.json()
        if response.status_code not in (200, 409):
            raise IngestError(response.status_code, body)
        if response.status_code == 200:
            sent = [r.sha256.hexdigest() for r in readers]
            stored = [f["sha256"] for f in body["files"]]
            if sent != stored:
                raise IngestError(502, f"server stored {stored}, but we sent {sent}")
        return response.status_code, body
    finally:
        for handle in handles:
            handle.close()
