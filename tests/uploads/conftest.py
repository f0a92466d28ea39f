"""Shared by the upload tests: one server per shape (local files; S3 multipart on a real
S3 API server with PostgreSQL), and a tus client made of plain HTTP requests."""

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Live, make_settings, running
from tzzr.uploads.protocol import encode_metadata

SHAPES = ["sqlite-local", "postgresql-s3"]
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


@pytest.fixture(scope="package", params=SHAPES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    home: Path = tmp_path_factory.mktemp(request.param)
    with running(make_settings(home, request.param, max_file_bytes=64 * 1024 * 1024)) as server:
        server.services.instances.add("corp")
        yield server


def create(client: httpx.Client, length: int, **meta: str) -> httpx.Response:
    headers = {**TUS, "Upload-Length": str(length)}
    if meta:
        headers["Upload-Metadata"] = encode_metadata(meta)
    return client.post("/uploads", headers=headers)


def new_upload(client: httpx.Client, length: int, **meta: str) -> str:
    response = create(client, length, **meta)
    assert response.status_code == 201, response.text
    location: str = response.headers["Location"]
    return location


def send(
    client: httpx.Client, location: str, offset: int, data: bytes, **headers: str
) -> httpx.Response:
    return client.patch(
        location,
        content=data,
        headers={**TUS, **OFFSET_TYPE, "Upload-Offset": str(offset), **headers},
    )


def checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def head(client: httpx.Client, location: str) -> httpx.Response:
    return client.head(location, headers=TUS)


def offset_of(client: httpx.Client, location: str) -> int:
    response = head(client, location)
    assert response.status_code == 200, response.text
    return int(response.headers["Upload-Offset"])


def upload(client: httpx.Client, data: bytes, chunk: int = 1 << 20, **meta: str) -> dict[str, Any]:
    """A whole upload in PATCHes of `chunk` bytes; its JSON state at the end."""
    location = new_upload(client, len(data), **meta)
    for start in range(0, len(data), chunk):
        answer = send(client, location, start, data[start : start + chunk])
        assert answer.status_code == 204, answer.text
    state = client.get(location)
    assert state.status_code == 200, state.text
    found: dict[str, Any] = state.json()
    return found


def multipart_uploads(live: Live) -> list[str]:
    """Keys of the S3 multipart uploads in progress (none on the local shape)."""
    from tzzr.blobs.s3 import S3BlobStore

    store = live.services.blobs
    if not isinstance(store, S3BlobStore):
        return []
    found = store.client.list_multipart_uploads(Bucket=store.bucket)
    return [u["Key"] for u in found.get("Uploads", [])]
