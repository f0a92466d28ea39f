"""Write-behind: a file's pieces, batched and written on a thread, arrive whole and in
order in its blob; a write's error surfaces at `drain`; a mutable buffer is copied."""

import asyncio
import hashlib
import os
import random
from pathlib import Path

import pytest

from tzzr.blobs.local import LocalBlobStore
from tzzr.errors import TooLarge
from tzzr.ingest.writebehind import WriteBehind


def test_pieces_of_several_files_reach_their_blobs_in_order(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    rng = random.Random(7)
    files = [os.urandom(n) for n in (0, 1, 5000, 70_000, 300_000, 1_000_003)]

    async def send() -> list[str]:
        behind = WriteBehind(batch=64 * 1024)
        digests = []
        for data in files:
            writer = store.writer()
            chunk = b"--" + data + b"--"  # the parser hands out slices of bigger chunks
            start = 2
            while start < len(data) + 2:
                end = min(start + rng.randint(1, 90_000), len(data) + 2)
                behind.add(writer, chunk, start, end)
                start = end
                await behind.drain()
            behind.end_file()
            await behind.drain(final=True)
            digests.append(writer.commit().sha256)
        return digests

    digests = asyncio.run(send())
    assert digests == [hashlib.sha256(data).hexdigest() for data in files]
    assert [store.read_all(d) for d in digests] == files


def test_a_write_error_is_raised_at_drain_and_nothing_is_left(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    writer = store.writer(max_bytes=3 * 1024 * 1024)
    data = os.urandom(1024 * 1024)

    async def send() -> None:
        behind = WriteBehind()
        try:
            for _ in range(8):
                behind.add(writer, data, 0, len(data))
                await behind.drain()
            await behind.drain(final=True)
        finally:
            behind.settle()

    with pytest.raises(TooLarge, match="larger than the limit"):
        asyncio.run(send())
    writer.abort()
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_a_mutable_buffer_is_copied_when_added(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    writer = store.writer()
    buffer = bytearray(b"first bytes")

    async def send() -> None:
        behind = WriteBehind()
        behind.add(writer, buffer, 0, len(buffer))  # type: ignore[arg-type]
        buffer[:] = b"overwritten"
        await behind.drain(final=True)

    asyncio.run(send())
    assert store.read_all(writer.commit().sha256) == b"first bytes"
