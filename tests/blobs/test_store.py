"""One contract suite for every blob backend; S3 runs against a real S3 API server.
What only one backend does is in test_local.py, test_memory.py and test_s3.py."""

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tzzr.blobs import BlobStore, open_store
from tzzr.blobs.local import LocalBlobStore
from tzzr.errors import InvalidInput, TooLarge


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    settings = make_settings(tmp_path, f"sqlite-{request.param}")
    yield open_store(settings).scoped("deck")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_then_read_back(store: BlobStore) -> None:
    data = os.urandom(700_000)
    blob = store.put(data)
    assert blob.sha256 == digest(data)
    assert blob.size == len(data)
    assert blob.path == f"deck/{blob.sha256[:2]}/{blob.sha256}"
    assert store.exists(blob.sha256)
    assert store.size(blob.sha256) == len(data)
    assert store.read_all(blob.sha256) == data
    assert store.verify(blob.sha256)


def test_ranges_are_inclusive(store: BlobStore) -> None:
    data = bytes(range(256)) * 4000
    blob = store.put(data)
    assert b"".join(store.read(blob.sha256, 10, 19)) == data[10:20]
    assert b"".join(store.read(blob.sha256, len(data) - 5)) == data[-5:]


def test_writes_are_idempotent(store: BlobStore) -> None:
    first = store.put(b"same bytes")
    second = store.put(b"same bytes")
    assert first == second
    assert [b.sha256 for b in store.list()] == [first.sha256]


def test_declared_digest_mismatch_stores_nothing(store: BlobStore) -> None:
    with pytest.raises(InvalidInput, match="does not match"):
        store.put(b"payload", expected_sha256=digest(b"other"))
    assert not store.exists(digest(b"payload"))
    assert list(store.list()) == []


def test_an_aborted_write_leaves_nothing(store: BlobStore) -> None:
    with store.writer() as writer:
        writer.write(b"half a file")
    assert list(store.list()) == []
    if isinstance(store, LocalBlobStore):
        assert list((store.root / ".tmp").iterdir()) == []


def test_size_limit_is_enforced_while_streaming(store: BlobStore) -> None:
    with store.writer(max_bytes=10) as writer:
        writer.write(b"12345")
        with pytest.raises(TooLarge):
            writer.write(b"678901")
    assert list(store.list()) == []


def test_prefixes_isolate_instances(store: BlobStore) -> None:
    other = store._clone("corp")
    blob = store.put(b"deck only")
    assert not other.exists(blob.sha256)
    assert list(other.list()) == []
