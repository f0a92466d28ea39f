"""Where an upload's bytes wait until it is complete, behind one small interface.

`local`: one file under the data directory, appended to and fsynced; published into the
blob store at its content address (a link on the same filesystem). `s3`: the parts of one
S3 multipart upload, the part being filled kept in a small fsynced local file, completed
and copied to the content address server-side, so a large file never needs a whole local
copy. An appender starts at the durable offset: bytes a crash left beyond it are cut off.
"""

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from tzzr.blobs import BlobStore, StoredBlob
from tzzr.blobs.store import DropBehind
from tzzr.errors import Conflict
from tzzr.types import HexDigest

Storage = dict[str, Any] | None  # what the upload's row records about its bytes


class Appender(Protocol):
    """Bytes appended at the durable offset; `sync` makes them durable and says what the
    row must record; `rollback` returns to the last sync."""

    def write(self, data: bytes) -> None: ...
    def sync(self) -> Storage: ...
    def synced(self) -> None:
        """The row recorded the last sync: what it superseded may go."""

    def rollback(self) -> None: ...
    def close(self) -> None: ...


class UploadBackend(Protocol):
    def create(self, store: BlobStore, upload_id: str, length: int) -> Storage: ...
    def appender(
        self, store: BlobStore, upload_id: str, offset: int, storage: Storage
    ) -> Appender: ...
    def publish(
        self, store: BlobStore, upload_id: str, length: int, storage: Storage, digest: HexDigest
    ) -> StoredBlob: ...
    def discard(self, store: BlobStore, upload_id: str, storage: Storage) -> None: ...
    def stray_files(self) -> list[Path]:
        """Every file this backend keeps (for `tzzr gc` to find those with no upload)."""
        ...

    def stray_remote(
        self, store: BlobStore, known: set[str], older_than: datetime, remove: bool
    ) -> list[str]:
        """Remote pieces of uploads that have no row (a crash inside a creation), begun
        before `older_than`: their names, removed when `remove`."""
        ...


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_at(path: Path, offset: int) -> Any:
    """The file opened for appending at `offset`, anything beyond it cut off (what a
    crash left after the last durable offset); a missing file is only fine at 0."""
    try:
        handle = path.open("r+b", buffering=0)
    except FileNotFoundError:
        if offset:
            raise Conflict(
                f"the bytes of this upload up to offset {offset} are missing from the server; "
                "start a new upload"
            ) from None
        handle = path.open("x+b", buffering=0)
        fsync_dir(path.parent)
    size = os.fstat(handle.fileno()).st_size
    if size < offset:
        handle.close()
        raise Conflict(
            f"this upload's file holds {size} bytes, fewer than its offset {offset}; "
            "start a new upload"
        )
    if size > offset:
        handle.truncate(offset)
    handle.seek(offset)
    return handle


class _FileAppender:
    def __init__(self, path: Path, offset: int) -> None:
        self._file = open_at(path, offset)
        self._durable = offset
        self._behind = DropBehind(self._file.fileno(), offset)  # each sync waits for less

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]
        self._behind.wrote(len(data))

    def sync(self) -> Storage:
        os.fsync(self._file.fileno())
        self._durable = self._file.tell()
        return None

    def synced(self) -> None:
        pass

    def rollback(self) -> None:
        self._file.truncate(self._durable)
        self._file.seek(self._durable)
        self._behind = DropBehind(self._file.fileno(), self._durable)

    def close(self) -> None:
        self._file.close()


class LocalUploads:
    """Each upload a file `<directory>/<upload_id>`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, upload_id: str) -> Path:
        return self.directory / upload_id

    def create(self, store: BlobStore, upload_id: str, length: int) -> Storage:
        self.directory.mkdir(parents=True, exist_ok=True)
        return None

    def appender(self, store: BlobStore, upload_id: str, offset: int, storage: Storage) -> Appender:
        self.directory.mkdir(parents=True, exist_ok=True)
        return _FileAppender(self._path(upload_id), offset)

    def publish(
        self, store: BlobStore, upload_id: str, length: int, storage: Storage, digest: HexDigest
    ) -> StoredBlob:
        path = self._path(upload_id)
        if not path.exists():
            if length == 0:
                return store.put(b"", digest)
            if store.exists(digest):  # published before a crash, the file already gone
                return StoredBlob(digest, length, store.key(digest))
            raise Conflict(f"the bytes of upload {upload_id} are missing; start a new upload")
        return store.adopt_file(path, digest)

    def discard(self, store: BlobStore, upload_id: str, storage: Storage) -> None:
        self._path(upload_id).unlink(missing_ok=True)

    def stray_files(self) -> list[Path]:
        return sorted(self.directory.iterdir()) if self.directory.is_dir() else []

    def stray_remote(
        self, store: BlobStore, known: set[str], older_than: datetime, remove: bool
    ) -> list[str]:
        return []
