"""Local-directory backend: temp file in the same filesystem, fsync, link into place."""

import contextlib
import errno
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from tzzr.blobs.store import CHUNK, BlobStore, StoredBlob, TempFileSink
from tzzr.types import HexDigest

TMP_DIR = ".tmp"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FileSink(TempFileSink):
    def __init__(self, root: Path) -> None:
        super().__init__(root / TMP_DIR, "upload-", drop_behind=True)
        self._root = root

    def commit(self, key: str) -> None:
        path = self.finish()
        final = self._root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        path.chmod(0o444)
        # link, not rename: an existing blob is never replaced (write-once).
        with contextlib.suppress(FileExistsError):
            os.link(path, final)
        path.unlink()
        _fsync_dir(final.parent)


class LocalBlobStore(BlobStore):
    scheme = "file"

    def __init__(self, root: Path, prefix: str = "") -> None:
        super().__init__(prefix)
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _clone(self, prefix: str) -> Self:
        return type(self)(self.root, prefix)

    def _sink(self) -> _FileSink:
        return _FileSink(self.root)

    def _exists(self, key: str) -> bool:
        return (self.root / key).is_file()

    def _size(self, key: str) -> int | None:
        try:
            return (self.root / key).stat().st_size
        except FileNotFoundError:
            return None

    def _read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with (self.root / key).open("rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    def _put_named(self, key: str, data: bytes) -> None:
        final = self.root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        sink = TempFileSink(self.root / TMP_DIR, "named-")
        try:
            sink.write(data)
            sink.finish().replace(final)  # named files may be replaced (the checkpoint)
        finally:
            sink.abort()
        _fsync_dir(final.parent)

    def adopt_file(self, path: Path, digest: HexDigest) -> StoredBlob:
        """Linked into place, not copied (the data directory's upload files are on the
        same filesystem as a default blob root); another filesystem is streamed."""
        key = self.key(digest)
        final = self.root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        size = path.stat().st_size
        path.chmod(0o444)
        try:
            with contextlib.suppress(FileExistsError):  # write-once: an existing blob is kept
                os.link(path, final)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            return super().adopt_file(path, digest)
        # Adopted now, however old the upload's file (or the blob kept): `tzzr gc`'s grace
        # counts from here, so it spares the blob until the entry naming it is committed.
        os.utime(final)
        path.unlink(missing_ok=True)
        _fsync_dir(final.parent)
        return StoredBlob(digest, size, key)

    def _delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def _list(self, prefix: str) -> Iterator[tuple[str, int, datetime]]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            if TMP_DIR in path.relative_to(self.root).parts or not path.is_file():
                continue
            stat = path.stat()
            yield (
                path.relative_to(self.root).as_posix(),
                stat.st_size,
                datetime.fromtimestamp(stat.st_mtime, UTC),
            )
