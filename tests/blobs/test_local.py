"""The local backend: files under a root, streamed, read-only once written."""

import hashlib
import os
import tracemalloc
from pathlib import Path

from tzzr.blobs.local import LocalBlobStore
from tzzr.blobs.store import CHUNK, DROP_BEHIND


def test_local_store_streams_without_holding_the_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    chunk = os.urandom(256 * 1024)
    tracemalloc.start()
    with store.writer() as writer:
        for _ in range(160):  # 40 MiB
            writer.write(chunk)
        blob = writer.commit()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert blob.size == 160 * len(chunk)
    assert peak < 4 * 1024 * 1024


def test_local_blobs_are_read_only_and_tampering_is_detected(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    blob = store.put(b"original")
    path = tmp_path / blob.path
    assert path.stat().st_mode & 0o222 == 0
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    assert not store.verify(blob.sha256)


def test_an_aborted_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with store.writer() as writer:
        writer.write(b"half a file")
    assert list((tmp_path / ".tmp").iterdir()) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_named_files_are_replaced_and_temporary_files_are_not_listed(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path).scoped("deck")
    key = store.publish("tile/0/000", b"first")
    assert key == "deck/tile/0/000"
    store.publish("tile/0/000", b"second")
    assert store.read_named("tile/0/000") == b"second"
    assert (tmp_path / key).read_bytes() == b"second"
    blob = store.put(b"content")
    (tmp_path / ".tmp" / "stray").write_bytes(b"left over")
    assert [b.sha256 for b in store.list()] == [blob.sha256]


def test_reads_stop_at_the_end_of_a_file_shorter_than_asked(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    blob = store.put(b"0123456789")
    assert b"".join(store._read(store.key(blob.sha256), 4, 99)) == b"456789"


def test_a_blob_is_written_once_and_a_second_write_links_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    first = store.put(b"same bytes")
    inode = (tmp_path / first.path).stat().st_ino
    store.put(b"same bytes")
    assert (tmp_path / first.path).stat().st_ino == inode
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_many_chunks_from_a_reused_buffer_past_the_drop_behind_step(tmp_path: Path) -> None:
    # The sink forgets written pages every DROP_BEHIND bytes and the caller reuses its
    # buffer after each call: what is stored is still every byte, in order.
    store = LocalBlobStore(tmp_path)
    expected = hashlib.sha256()
    buffer = bytearray(CHUNK * 3 + 17)  # written CHUNK bytes a call, then a short rest
    with store.writer() as writer:
        for _ in range(DROP_BEHIND // len(buffer) * 3):
            buffer[:] = os.urandom(len(buffer))
            expected.update(buffer)
            writer.write_many([memoryview(buffer)[:100], memoryview(buffer)[100:]])
        blob = writer.commit()
    assert blob.sha256 == expected.hexdigest()
    assert blob.size > 2 * DROP_BEHIND
    assert store.verify(blob.sha256)
