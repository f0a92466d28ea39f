"""The memory backend: scoped views share one dictionary of objects."""

import hashlib

import pytest

from tzzr.blobs.memory import MemoryBlobStore
from tzzr.blobs.store import CHUNK


def test_scoped_views_share_the_objects_and_list_only_their_own() -> None:
    root = MemoryBlobStore()
    deck, corp = root.scoped("deck"), root.scoped("corp")
    blob = deck.put(b"deck bytes")
    assert root._exists(f"deck/{blob.sha256[:2]}/{blob.sha256}")
    assert not corp.exists(blob.sha256)
    assert [b.sha256 for b in deck.list()] == [blob.sha256]
    assert list(corp.list()) == []
    assert {b.sha256 for b in root.list()} == {blob.sha256}
    deck.delete(blob.sha256)
    assert not deck.exists(blob.sha256) and list(root.list()) == []


def test_reads_come_in_chunks_of_the_asked_range() -> None:
    store = MemoryBlobStore()
    data = bytes(range(256)) * (CHUNK // 128 + 3)  # a little over two chunks
    blob = store.put(data)
    chunks = list(store.read(blob.sha256))
    assert len(chunks) == 3 and all(len(c) == CHUNK for c in chunks[:2])
    assert b"".join(chunks) == data
    assert b"".join(store.read(blob.sha256, CHUNK - 2, CHUNK + 1)) == data[CHUNK - 2 : CHUNK + 2]


def test_an_aborted_write_is_forgotten() -> None:
    store = MemoryBlobStore()
    with store.writer() as writer:
        writer.write(b"never kept")
    assert store._objects == {}
    assert store.put(b"kept").sha256 == hashlib.sha256(b"kept").hexdigest()


def test_a_missing_blob_or_name_is_file_not_found() -> None:
    store = MemoryBlobStore()
    with pytest.raises(FileNotFoundError):
        store.read_all(hashlib.sha256(b"absent").hexdigest())
    with pytest.raises(FileNotFoundError):
        store.read_named("checkpoint")
    store.publish("checkpoint", b"v1")
    store.publish("checkpoint", b"v2")
    assert store.read_named("checkpoint") == b"v2"
