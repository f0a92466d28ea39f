"""The blob store: content-addressed, write-once, streamed, verified, atomic.

A backend implements a few primitives (`_sink`, `_exists`, `_size`, `_read`, `_delete`,
`_list`) on full keys; hashing, verification, size limits and per-instance prefixes
live here, once.
"""

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, Self

from tzzr.errors import InvalidInput, TooLarge
from tzzr.types import HexDigest, is_hex_digest

CHUNK = 256 * 1024
DROP_BEHIND = 8 * 1024 * 1024
DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 4)


class Sink(Protocol):
    """A temporary object being written; invisible until `commit`. A sink may also have
    `write_many(chunks)`: the same as `write` for each, in fewer system calls."""

    def write(self, chunk: bytes) -> None: ...
    def commit(self, key: str) -> None: ...
    def abort(self) -> None: ...


class DropBehind:
    """Every DROP_BEHIND bytes written to a file that will be fsynced: the kernel is told
    to start writing them out, and to forget the pages of the step before, written out
    by then (POSIX_FADV_DONTNEED drops only clean pages: nothing is lost). The disk works
    while the bytes arrive, so the fsync waits for a few MiB instead of all of them, and
    a large file reuses a few MiB of page cache instead of filling it. Measured on the
    benchmark machine: 512 MiB written and fsynced in half the time, the fsync 0.01 s
    instead of 0.22 s."""

    def __init__(self, fd: int, offset: int = 0) -> None:
        self._fd = fd
        self._on = hasattr(os, "posix_fadvise")
        self._written = self._kicked = self._dropped = offset

    def wrote(self, size: int) -> None:
        self._written += size
        if self._on and self._written - self._kicked >= DROP_BEHIND:
            os.posix_fadvise(self._fd, self._kicked, self._written - self._kicked, DONTNEED)
            if self._dropped < self._kicked:
                os.posix_fadvise(self._fd, self._dropped, self._kicked - self._dropped, DONTNEED)
            self._dropped, self._kicked = self._kicked, self._written


class TempFileSink:
    """A sink that streams into a temporary file in `directory`; backends subclass it
    and publish the file in `commit`.

    `drop_behind`: for a file that `finish` will fsync (DropBehind)."""

    def __init__(self, directory: Path, prefix: str, *, drop_behind: bool = False) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=prefix)
        self._path = Path(name)
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._behind = DropBehind(fd) if drop_behind else None

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        if self._behind is not None:
            self._behind.wrote(len(chunk))

    def write_many(self, chunks: Sequence[bytes | memoryview]) -> None:
        """`write` for each chunk, without copying a view (a short write goes on).
        At most CHUNK bytes a call: measured on the benchmark machine, writing 4 MiB
        at once cost the kernel twice the CPU of writing it 256 KiB at a time, and one
        `writev` of several chunks more still."""
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                view = view[self._file.write(view[:CHUNK]) or 0 :]
            if self._behind is not None:
                self._behind.wrote(len(chunk))

    def commit(self, key: str) -> None:
        raise NotImplementedError

    def finish(self) -> Path:
        """Flush, fsync and close the file; returns its path."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._path

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._path.unlink(missing_ok=True)


@dataclass(frozen=True)
class StoredBlob:
    sha256: HexDigest
    size: int
    path: str


@dataclass(frozen=True)
class BlobInfo:
    sha256: HexDigest
    size: int
    modified: datetime


class BlobWriter:
    """Hashes and counts while it streams into a backend's sink.

    `commit()` checks the declared digest, then publishes the blob under its
    address; closing without commit discards it. A blob that already exists is
    left untouched (write-once), which makes writes idempotent.
    """

    def __init__(self, store: "BlobStore", sink: Sink, max_bytes: int | None) -> None:
        self._store = store
        self._sink = sink
        self._hash = hashlib.sha256()
        self._max_bytes = max_bytes
        self._done = False
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise TooLarge(f"a file is larger than the limit of {self._max_bytes} bytes")
        self._hash.update(chunk)
        self._sink.write(chunk)

    def write_many(self, chunks: Sequence[bytes | memoryview]) -> None:
        """`write` for each chunk, in one system call where the sink can."""
        self.size += sum(len(c) for c in chunks)
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise TooLarge(f"a file is larger than the limit of {self._max_bytes} bytes")
        for chunk in chunks:
            self._hash.update(chunk)
        many = getattr(self._sink, "write_many", None)
        if many is not None:
            many(chunks)
        else:
            for chunk in chunks:
                self._sink.write(bytes(chunk))

    @property
    def sha256(self) -> HexDigest:
        return self._hash.hexdigest()

    def commit(
        self, expected_sha256: HexDigest | None = None, *, field: str = "file"
    ) -> StoredBlob:
        digest = self.sha256
        try:
            self.check(expected_sha256, field=field)
        except InvalidInput:
            self.abort()
            raise
        key = self._store.key(digest)
        if self._store._exists(key):
            self._sink.abort()
        else:
            self._sink.commit(key)
        self._done = True
        return StoredBlob(digest, self.size, key)

    def check(self, expected_sha256: HexDigest | None, *, field: str = "file") -> None:
        """422 unless the bytes so far hash to the declared digest (if one was declared)."""
        if expected_sha256 is not None and expected_sha256.lower() != self.sha256:
            raise InvalidInput(
                f"declared sha256 {expected_sha256} does not match the bytes received "
                f"(sha256 {self.sha256}); resend the file or fix the declared digest",
                field=field,
            )

    def abort(self) -> None:
        if not self._done:
            self._done = True
            self._sink.abort()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()


class BlobStore:
    """Base of every backend. Keys are `<prefix>/<sha[:2]>/<sha>`."""

    scheme = ""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix.strip("/")

    # -- primitives each backend implements, on full keys --------------------------
    def _sink(self) -> Sink:
        raise NotImplementedError

    def _exists(self, key: str) -> bool:
        raise NotImplementedError

    def _size(self, key: str) -> int | None:
        raise NotImplementedError

    def _read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes `start..end` inclusive, in chunks."""
        raise NotImplementedError

    def _delete(self, key: str) -> None:
        raise NotImplementedError

    def _put_named(self, key: str, data: bytes) -> None:
        """Store small named bytes at `key`, replacing what was there, atomically."""
        raise NotImplementedError

    def _list(self, prefix: str) -> Iterator[tuple[str, int, datetime]]:
        """(key, size, modified) of every blob under `prefix`."""
        raise NotImplementedError

    def _clone(self, prefix: str) -> Self:
        raise NotImplementedError

    # -- the shared behaviour -------------------------------------------------------
    def scoped(self, prefix: str) -> Self:
        """The same store seen under `prefix` (each instance has its own)."""
        return self._clone("/".join(p for p in (self.prefix, prefix.strip("/")) if p))

    def key(self, digest: HexDigest) -> str:
        if not is_hex_digest(digest):
            raise InvalidInput(f"not a sha256 hex digest: {digest!r}", field="sha256")
        return "/".join(p for p in (self.prefix, digest[:2], digest) if p)

    def writer(self, max_bytes: int | None = None) -> BlobWriter:
        return BlobWriter(self, self._sink(), max_bytes)

    def put(self, data: bytes, expected_sha256: HexDigest | None = None) -> StoredBlob:
        with self.writer() as writer:
            for offset in range(0, len(data), CHUNK):
                writer.write(data[offset : offset + CHUNK])
            return writer.commit(expected_sha256)

    def exists(self, digest: HexDigest) -> bool:
        return self._exists(self.key(digest))

    def size(self, digest: HexDigest) -> int | None:
        return self._size(self.key(digest))

    def read(self, digest: HexDigest, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        key = self.key(digest)
        if end is None:
            size = self._size(key)
            if size is None:
                raise FileNotFoundError(key)
            end = size - 1
        if end < start:
            return iter(())
        return self._read(key, start, end)

    def read_all(self, digest: HexDigest) -> bytes:
        return self._read_whole(self.key(digest))

    def _read_whole(self, key: str) -> bytes:
        """All of a blob's bytes (FileNotFoundError when missing); a backend may do it
        in one request."""
        size = self._size(key)
        if size is None:
            raise FileNotFoundError(key)
        return b"".join(self._read(key, 0, size - 1)) if size else b""

    def publish(self, path: str, data: bytes) -> str:
        """Named (not content-addressed) bytes under this prefix, for files that other
        tools fetch by path, such as tlog tiles; returns the key."""
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"not a relative path: {path!r}")
        key = "/".join(p for p in (self.prefix, path) if p)
        self._put_named(key, data)
        return key

    def read_named(self, path: str) -> bytes:
        return self._read_whole("/".join(p for p in (self.prefix, path) if p))

    def delete(self, digest: HexDigest) -> None:
        self._delete(self.key(digest))

    def adopt_file(self, path: Path, digest: HexDigest) -> StoredBlob:
        """Publish a finished local file whose digest the caller computed as it was
        written (a tus upload); the file is consumed. Write-once: an existing blob is kept.
        A backend that can move the file into place does so; this one streams it."""
        with self.writer() as writer, path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                writer.write(chunk)
            stored = writer.commit(digest)
        path.unlink(missing_ok=True)
        return stored

    def list(self) -> Iterator[BlobInfo]:
        for key, size, modified in self._list(self.prefix):
            digest = key.rsplit("/", 1)[-1]
            if is_hex_digest(digest):
                yield BlobInfo(digest, size, modified)

    def verify(self, digest: HexDigest) -> bool:
        """Re-hash the stored bytes: True when they still match their address."""
        sha = hashlib.sha256()
        for chunk in self.read(digest):
            sha.update(chunk)
        return sha.hexdigest() == digest
