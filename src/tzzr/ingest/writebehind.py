"""Write-behind for streamed uploads: the event loop parses, a thread hashes and writes.

A multipart body arrives in chunks of about 256 KiB. Hashing and writing each one on the
event loop keeps the loop from reading the next, so the two take turns. Here the
parser's pieces of a file are gathered into batches of `BATCH` bytes, and each batch is
hashed and written on a worker thread while the loop goes on receiving and parsing;
SHA-256 and `write` release the GIL, so the two overlap.

Each batch is copied once (the copy the parser's slices made before) into one of two
reused buffers: the worker hashes one contiguous buffer, taking the GIL back once for
it rather than once per piece, and no fresh memory is touched per chunk. Measured on
the benchmark machine, batches of 1 MiB cost the least CPU; 4 MiB ones a quarter more
(likely: they no longer stay in a core's cache from the loop's copy to the worker's
hash).
One batch is in flight per request: a file's batches reach its writer in order, and an
upload holds two buffers whatever its size. A batch of at most INLINE bytes (a small
file) is written on the loop: a thread hop would cost more than it saves.
"""

import asyncio
import concurrent.futures
from concurrent.futures import Future, ThreadPoolExecutor

from tzzr.blobs import BlobWriter

BATCH = 1024 * 1024
INLINE = 256 * 1024  # a smaller batch (a small file) is written on the loop: no hop
# Shared by every request; each uses at most one thread at a time.
_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tzzr-write-behind")


class WriteBehind:
    def __init__(self, batch: int = BATCH) -> None:
        self._batch = batch
        self._writer: BlobWriter | None = None
        self._pieces: list[memoryview] = []
        self._size = 0
        self._ready: list[tuple[BlobWriter, list[memoryview], int]] = []
        self._free: list[bytearray] = []
        self._job: tuple[Future[None], bytearray] | None = None

    def add(self, writer: BlobWriter, data: bytes, start: int, end: int) -> None:
        """Queue `data[start:end]` for `writer`. `data` must not change until it is
        copied (at the next `drain`): the parser hands out the received `bytes`."""
        if not isinstance(data, bytes):  # a buffer that may be reused: copied now
            data, start, end = bytes(data[start:end]), 0, end - start
        if writer is not self._writer:
            self._cut()
            self._writer = writer
        view = memoryview(data)
        while start < end:
            take = min(end - start, self._batch - self._size)
            self._pieces.append(view[start : start + take])
            self._size += take
            start += take
            if self._size == self._batch:
                self._cut()

    def end_file(self) -> None:
        self._cut()
        self._writer = None

    async def drain(self, *, final: bool = False) -> None:
        """Hand the full batches to the thread, one at a time (waiting, without blocking
        the loop, for the one before); with `final`, also the last partial batch, and
        wait until everything is written. A write's error (a file past its limit, a
        full disk) is raised here."""
        if final:
            self._cut()
        while self._ready:
            writer, pieces, size = self._ready.pop(0)
            if size <= INLINE:
                await self._wait()
                writer.write_many(pieces)
                continue
            # Full-sized buffers are reused; a file's last, shorter batch gets its own.
            buffer = self._free.pop() if self._free else bytearray(size)
            view = memoryview(buffer)
            at = 0
            for piece in pieces:  # copied while the batch before is still being written
                view[at : at + len(piece)] = piece
                at += len(piece)
            await self._wait()
            job = _THREADS.submit(writer.write_many, [view[:size]])
            self._job = (job, buffer)
        if final:
            await self._wait()

    def settle(self) -> None:
        """Wait (blocking, a batch at most) for a write still in flight, so that the
        files can be aborted safely after an error."""
        if self._job is not None:
            concurrent.futures.wait([self._job[0]])
            self._job = None

    def _cut(self) -> None:
        if self._pieces and self._writer is not None:
            self._ready.append((self._writer, self._pieces, self._size))
        self._pieces = []
        self._size = 0

    async def _wait(self) -> None:
        if self._job is None:
            return
        job, buffer = self._job
        try:
            await asyncio.wrap_future(job)
        finally:
            if job.done():  # cancelled while it runs: kept for `settle`
                self._job = None
                if len(buffer) == self._batch:
                    self._free.append(buffer)
