"""The S3 shape of an upload: one multipart upload under `<instance prefix>/uploads/<id>`.

Parts are `part_size` bytes (≥ 5 MiB, S3's floor for every part but the last); the part
being filled is a local file `<directory>/<upload_id>.<part number>`, fsynced, so the tus
offset counts bytes durable either in S3 parts or in that file. A part's file is removed
only after the row has recorded the part (a crash in between uploads it again, under the
same number, which S3 allows). At the end the last part is sent, the upload completed and
the object copied to its content address."""

import contextlib
import math
import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tzzr.blobs import BlobStore, StoredBlob
from tzzr.blobs.s3 import S3BlobStore
from tzzr.errors import Conflict
from tzzr.types import HexDigest
from tzzr.uploads.storage import Appender, Storage, fsync_dir, open_at

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024
MIN_PART = 8 * MiB
MAX_PARTS = 10_000
IN_FLIGHT = 2  # parts being sent at once by one PATCH (each read from its own file)


def part_size(length: int) -> int:
    """The smallest whole number of MiB, at least MIN_PART, that fits `length` in S3's
    10,000 parts."""
    return max(MIN_PART, math.ceil(length / MAX_PARTS / MiB) * MiB)


def _s3(store: BlobStore) -> S3BlobStore:
    assert isinstance(store, S3BlobStore)
    return store


def _missing(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in (
        "NoSuchUpload",
        "NoSuchKey",
        "404",
        "NotFound",
    )


class _PartAppender:
    """Full parts are sent on a thread (at most IN_FLIGHT at once) while the next fills,
    so receiving and sending overlap; `sync` waits for them, so what it returns to record
    is in S3. A part's file stays until the row has recorded the part."""

    def __init__(self, backend: "S3Uploads", store: S3BlobStore, upload_id: str, storage: Storage):
        assert storage is not None
        self._backend = backend
        self._client: S3Client = store.client
        self._bucket = store.bucket
        self._upload_id = upload_id
        self._key: str = storage["key"]
        self._mpu: str = storage["mpu"]
        self._part_size: int = storage["part_size"]
        self._storage = storage
        self._parts: list[list[Any]] = [list(p) for p in storage["parts"]]
        self._sending: list[tuple[int, Future[str]]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._tail = int(storage["tail"])
        self._done: list[Path] = []  # files of parts sent since the last sync
        self._number = len(self._parts) + 1  # the part being filled
        backend.remove_files(upload_id, keep=self._number)
        self._file = open_at(self._path(), self._tail)

    def _path(self) -> Path:
        return self._backend.part_file(self._upload_id, self._number)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            room = self._part_size - self._tail
            piece = view[:room]
            written = self._file.write(piece)
            self._tail += written
            view = view[written:]
            if self._tail == self._part_size:
                self._send_part()

    def _upload(self, number: int, path: Path, size: int) -> str:
        with path.open("rb") as body:
            answer = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._mpu,
                PartNumber=number,
                Body=body,
                ContentLength=size,
            )
        return answer["ETag"]

    def _send_part(self) -> None:
        path = self._path()
        self._file.close()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="tzzr-part")
        future = self._pool.submit(self._upload, self._number, path, self._tail)
        self._sending.append((self._number, future))
        self._done.append(path)
        self._number += 1
        self._tail = 0
        self._file = open_at(self._path(), 0)
        while len(self._sending) >= IN_FLIGHT:
            self._settle_one()

    def _settle_one(self) -> None:
        number, future = self._sending.pop(0)
        self._parts.append([number, future.result()])

    def sync(self) -> Storage:
        while self._sending:
            self._settle_one()
        os.fsync(self._file.fileno())
        self._storage = {
            **self._storage,
            "parts": [list(p) for p in self._parts],
            "tail": self._tail,
        }
        return self._storage

    def synced(self) -> None:
        for path in self._done:
            path.unlink(missing_ok=True)
        self._done = []

    def _drain(self) -> None:
        """Every part in flight finished (its error dropped: its part is not recorded)."""
        for _, future in self._sending:
            with contextlib.suppress(Exception):
                future.result()
        self._sending = []

    def rollback(self) -> None:
        self._drain()
        self._file.close()
        self._parts = [list(p) for p in self._storage["parts"]]
        self._tail = int(self._storage["tail"])
        self._number = len(self._parts) + 1
        self._done = []
        self._backend.remove_files(self._upload_id, keep=self._number)
        self._file = open_at(self._path(), self._tail)

    def close(self) -> None:
        self._drain()
        if self._pool is not None:
            self._pool.shutdown()
        self._file.close()


class S3Uploads:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def part_file(self, upload_id: str, number: int) -> Path:
        return self.directory / f"{upload_id}.{number}"

    def remove_files(self, upload_id: str, keep: int | None = None) -> None:
        """The part files of an upload, but the one numbered `keep`."""
        if not self.directory.is_dir():
            return
        for path in self.directory.glob(f"{upload_id}.*"):
            if keep is None or path.suffix != f".{keep}":
                path.unlink(missing_ok=True)

    def create(self, store: BlobStore, upload_id: str, length: int) -> Storage:
        s3 = _s3(store)
        self.directory.mkdir(parents=True, exist_ok=True)
        key = "/".join(p for p in (s3.prefix, "uploads", upload_id) if p)
        answer = s3.client.create_multipart_upload(Bucket=s3.bucket, Key=key)
        return {
            "key": key,
            "mpu": answer["UploadId"],
            "part_size": part_size(length),
            "parts": [],
            "tail": 0,
        }

    def appender(self, store: BlobStore, upload_id: str, offset: int, storage: Storage) -> Appender:
        self.directory.mkdir(parents=True, exist_ok=True)
        return _PartAppender(self, _s3(store), upload_id, storage)

    def publish(
        self, store: BlobStore, upload_id: str, length: int, storage: Storage, digest: HexDigest
    ) -> StoredBlob:
        s3 = _s3(store)
        assert storage is not None
        if length == 0:
            self.discard(store, upload_id, storage)
            return store.put(b"", digest)
        parts = [list(p) for p in storage["parts"]]
        tail = int(storage["tail"])
        try:
            if tail:
                number = len(parts) + 1
                with self.part_file(upload_id, number).open("rb") as body:
                    answer = s3.client.upload_part(
                        Bucket=s3.bucket,
                        Key=storage["key"],
                        UploadId=storage["mpu"],
                        PartNumber=number,
                        Body=body,
                        ContentLength=tail,
                    )
                parts.append([number, answer["ETag"]])
            s3.client.complete_multipart_upload(
                Bucket=s3.bucket,
                Key=storage["key"],
                UploadId=storage["mpu"],
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
            )
        except Exception as exc:
            # Completed before a crash: the staging object (or the blob itself) is there.
            if not _missing(exc) and not isinstance(exc, FileNotFoundError):
                raise
            if s3._head(storage["key"]) is None:
                if store.exists(digest):
                    self.remove_files(upload_id)
                    return StoredBlob(digest, length, store.key(digest))
                raise Conflict(
                    f"the bytes of upload {upload_id} are missing; start a new upload"
                ) from exc
        stored = s3.adopt_object(storage["key"], digest)
        self.remove_files(upload_id)
        if self.directory.is_dir():
            fsync_dir(self.directory)
        return stored

    def discard(self, store: BlobStore, upload_id: str, storage: Storage) -> None:
        s3 = _s3(store)
        self.remove_files(upload_id)
        if storage is None:
            return
        try:
            s3.client.abort_multipart_upload(
                Bucket=s3.bucket, Key=storage["key"], UploadId=storage["mpu"]
            )
        except Exception as exc:
            if not _missing(exc):
                raise
        s3.client.delete_object(Bucket=s3.bucket, Key=storage["key"])

    def stray_files(self) -> list[Path]:
        return sorted(self.directory.iterdir()) if self.directory.is_dir() else []

    def stray_remote(
        self, store: BlobStore, known: set[str], older_than: datetime, remove: bool
    ) -> list[str]:
        """Multipart uploads under the instance's `uploads/` that no row names."""
        s3 = _s3(store)
        prefix = "/".join(p for p in (s3.prefix, "uploads", "") if p) + "/"
        found: list[str] = []
        paginator = s3.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=s3.bucket, Prefix=prefix):
            for item in page.get("Uploads", []):
                key = item["Key"]
                if key.rsplit("/", 1)[-1] in known or item["Initiated"] >= older_than:
                    continue
                found.append(key)
                if remove:
                    s3.client.abort_multipart_upload(
                        Bucket=s3.bucket, Key=key, UploadId=item["UploadId"]
                    )
        return found
