"""Uploads of one instance: created, appended to at their durable offset, completed into
the blob store, terminated, expired. The tus wire format is tzzr.api.uploads'; this is
what it does, in threads (every call blocks on the disk, S3 or the database)."""

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from tzzr.blobs import BlobStore, StoredBlob
from tzzr.blobs.s3 import S3BlobStore
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models_uploads import Upload
from tzzr.errors import Conflict, InvalidInput, NotFound, TooLarge
from tzzr.instances import InstanceInfo
from tzzr.sentinel.events import emit
from tzzr.times import rfc3339
from tzzr.uploads.hashing import ResumableSha256
from tzzr.uploads.protocol import ChecksumMismatch, Gone, declared_sha256
from tzzr.uploads.s3 import S3Uploads
from tzzr.uploads.storage import Appender, LocalUploads, Storage, UploadBackend

OPEN, COMPLETE, FAILED, TERMINATED = "open", "complete", "failed", "terminated"
# A long PATCH without Upload-Checksum makes its bytes durable every so many bytes or
# seconds (whichever comes first), so a kill -9 loses at most that much of it; an fsync
# each 16 MiB halved a fast upload's rate.
CHECKPOINT_BYTES = 64 * 1024 * 1024
CHECKPOINT_SECONDS = 2.0


@dataclass(frozen=True)
class UploadInfo:
    id: str
    h_instancia: str
    length: int
    offset: int
    meta: dict[str, str]
    declared_sha256: str | None
    sha256: str | None
    state: str
    error: str | None
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None

    @property
    def complete(self) -> bool:
        return self.state == COMPLETE

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "offset": self.offset,
            "length": self.length,
            "complete": self.complete,
            "state": self.state,
            "sha256": self.sha256 if self.complete else None,
            "declared_sha256": self.declared_sha256,
            "metadata": self.meta,
            "error": self.error,
            "created_at": rfc3339(self.created_at),
            "expires": rfc3339(self.expires_at),
            "completed_at": rfc3339(self.completed_at) if self.completed_at else None,
        }


def _info(row: Any) -> UploadInfo:
    return UploadInfo(
        id=row.id,
        h_instancia=row.h_instancia,
        length=row.length,
        offset=row.offset,
        meta=dict(row.meta),
        declared_sha256=row.declared_sha256,
        sha256=row.sha256,
        state=row.state,
        error=row.error,
        created_at=row.created_at,
        expires_at=row.expires_at,
        completed_at=row.completed_at,
    )


class Uploads:
    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore,
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._blobs = blobs
        self.settings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        directory = settings.home / "uploads"
        self.backend: UploadBackend = (
            S3Uploads(directory) if isinstance(blobs, S3BlobStore) else LocalUploads(directory)
        )

    def store_for(self, h_instancia: str, blob_prefix: str) -> BlobStore:
        return self._blobs.scoped(blob_prefix)

    def _store(self, instance: InstanceInfo) -> BlobStore:
        return self._blobs.scoped(instance.blob_prefix)

    def now(self) -> datetime:
        return self._clock()

    # -- creation ---------------------------------------------------------------------
    def create(self, instance: InstanceInfo, length: int, meta: dict[str, str]) -> UploadInfo:
        if length > self.settings.max_file_bytes:
            raise TooLarge(
                f"Upload-Length {length} is larger than the limit of "
                f"{self.settings.max_file_bytes} bytes (Tus-Max-Size)"
            )
        declared = declared_sha256(meta)
        upload_id = secrets.token_hex(16)
        storage = self.backend.create(self._store(instance), upload_id, length)
        now = self.now()
        with write_transaction(self._engine) as conn:
            conn.execute(
                insert(Upload).values(
                    id=upload_id,
                    h_instancia=instance.h_instancia,
                    length=length,
                    offset=0,
                    meta=meta,
                    declared_sha256=declared,
                    hash_state=ResumableSha256().state(),
                    sha256=None,
                    state=OPEN,
                    storage=storage,
                    created_at=now,
                    updated_at=now,
                    expires_at=now + timedelta(seconds=self.settings.upload_expires_seconds),
                )
            )
        info = self.get(instance, upload_id)
        if length == 0:
            return self._complete(instance, info, ResumableSha256(), storage)
        return info

    # -- reading ----------------------------------------------------------------------
    def _row(self, h_instancia: str, upload_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(
                select(Upload).where(Upload.id == upload_id, Upload.h_instancia == h_instancia)
            ).first()

    def get(self, instance: InstanceInfo, upload_id: str) -> UploadInfo:
        """The upload (404 for none of this instance's; a terminated one is none)."""
        row = self._row(instance.h_instancia, upload_id)
        if row is None or row.state == TERMINATED:
            raise NotFound(f"no upload {upload_id} in this instance", field="upload_id")
        return _info(row)

    def current(self, instance: InstanceInfo, upload_id: str) -> UploadInfo:
        """As `get`, 410 when expired or failed, and an upload whose last byte is durable
        but whose blob is not published (a crash in between) completed now."""
        info = self.get(instance, upload_id)
        if info.expired(self.now()):
            raise Gone(
                f"upload {upload_id} expired at {rfc3339(info.expires_at)}; create a new upload",
                field="upload_id",
            )
        if info.state == FAILED:
            raise Gone(f"upload {upload_id} failed: {info.error}", field="upload_id")
        if info.state == OPEN and info.offset == info.length:
            row = self._row(instance.h_instancia, upload_id)
            if info.sha256 is None:
                return self._complete(instance, info, ResumableSha256(row.hash_state), row.storage)
            info = self._publish(instance, info, row.storage)
        return info

    def expiry_margin(self) -> timedelta:
        """How long a completed upload must still have to live for an ingest to name it:
        `tzzr gc` keeps its blob only while it has not expired, and the entry naming it
        is committed a while after the check (the gc grace, at most half the lifetime)."""
        settings = self.settings
        return timedelta(
            seconds=min(settings.gc_grace_seconds, settings.upload_expires_seconds // 2)
        )

    def completed_blob(self, instance: InstanceInfo, sha256: str) -> StoredBlob | None:
        """The blob of a completed upload of this instance with this digest, unexpired
        for `expiry_margin()` more at least (422 for one that expires sooner)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Upload.id, Upload.expires_at)
                .where(
                    Upload.h_instancia == instance.h_instancia,
                    Upload.sha256 == sha256.lower(),
                    Upload.state == COMPLETE,
                    Upload.expires_at > self.now(),
                )
                .order_by(Upload.expires_at.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        if row.expires_at <= self.now() + self.expiry_margin():
            raise InvalidInput(
                f"the upload with sha256 {sha256.lower()} expires at "
                f"{rfc3339(row.expires_at)}, too soon to be kept for this entry: upload the "
                "file through /uploads again (or send it inline as content)"
            )
        store = self._store(instance)
        size = store.size(sha256.lower())
        if size is None:
            return None
        return StoredBlob(sha256.lower(), size, store.key(sha256.lower()))

    # -- appending --------------------------------------------------------------------
    def patch(self, instance: InstanceInfo, upload_id: str, offset: int) -> "Patch":
        info = self.current(instance, upload_id)
        if info.state == COMPLETE:
            raise Conflict(
                f"upload {upload_id} is complete (sha256 {info.sha256}); nothing more is accepted",
                field="Upload-Offset",
            )
        if offset != info.offset:
            raise Conflict(
                f"Upload-Offset {offset} is not this upload's offset {info.offset}: ask HEAD "
                "for the offset and send from there",
                field="Upload-Offset",
            )
        row = self._row(instance.h_instancia, upload_id)
        appender = self.backend.appender(self._store(instance), upload_id, offset, row.storage)
        return Patch(self, instance, info, ResumableSha256(row.hash_state), appender)

    def _record(
        self, info: UploadInfo, old_offset: int, new_offset: int, state: bytes, storage: Storage
    ) -> None:
        with write_transaction(self._engine) as conn:
            done = conn.execute(
                update(Upload)
                .where(
                    Upload.id == info.id,
                    Upload.h_instancia == info.h_instancia,
                    Upload.offset == old_offset,
                    Upload.state == OPEN,
                )
                .values(offset=new_offset, hash_state=state, storage=storage, updated_at=self.now())
            ).rowcount
        if done != 1:
            raise Conflict(
                f"upload {info.id} changed while this PATCH was written (another PATCH or a "
                "DELETE); ask HEAD for its offset",
                field="Upload-Offset",
            )

    def _complete(
        self, instance: InstanceInfo, info: UploadInfo, hasher: ResumableSha256, storage: Storage
    ) -> UploadInfo:
        digest = hasher.hexdigest()
        if info.declared_sha256 is not None and info.declared_sha256 != digest:
            message = (
                f"the upload's bytes hash to sha256 {digest}, not the declared "
                f"{info.declared_sha256} (Upload-Metadata sha256): nothing was published; "
                "create a new upload"
            )
            with write_transaction(self._engine) as conn:
                failed = conn.execute(
                    self._while_open(info).values(
                        state=FAILED, error=message, updated_at=self.now()
                    )
                ).rowcount
                if failed:
                    emit(
                        conn,
                        "upload",
                        severity="warning",
                        h_instancia=info.h_instancia,
                        subject=info.id,
                        data={"state": FAILED, "length": info.length, "sha256": digest},
                    )
            if failed:  # only the completion that failed it discards its bytes
                self.backend.discard(self._store(instance), info.id, storage)
            raise InvalidInput(message, field="Upload-Metadata")
        with write_transaction(self._engine) as conn:
            claimed = conn.execute(
                self._while_open(info)
                .where(Upload.offset == info.length, Upload.sha256.is_(None))
                .values(sha256=digest, updated_at=self.now())
            ).rowcount
        if not claimed:  # another completion (another server's HEAD) came first: it publishes
            return self.get(instance, info.id)
        return self._publish(instance, self.get(instance, info.id), storage)

    @staticmethod
    def _while_open(info: UploadInfo) -> Any:
        """An UPDATE of this upload that changes nothing once it is no longer open
        (completed, failed or terminated by another request): its rowcount says."""
        return update(Upload).where(
            Upload.id == info.id, Upload.h_instancia == info.h_instancia, Upload.state == OPEN
        )

    def _publish(self, instance: InstanceInfo, info: UploadInfo, storage: Storage) -> UploadInfo:
        assert info.sha256 is not None
        self.backend.publish(self._store(instance), info.id, info.length, storage, info.sha256)
        with write_transaction(self._engine) as conn:
            published = conn.execute(
                self._while_open(info).values(
                    state=COMPLETE, storage=None, completed_at=self.now(), updated_at=self.now()
                )
            ).rowcount
            if published:  # once, however many completions published the same blob
                emit(
                    conn,
                    "upload",
                    h_instancia=info.h_instancia,
                    subject=info.id,
                    data={"state": COMPLETE, "length": info.length, "sha256": info.sha256},
                )
        return self.get(instance, info.id)

    # -- termination and expiry -------------------------------------------------------
    def terminate(self, instance: InstanceInfo, upload_id: str) -> None:
        info = self.get(instance, upload_id)
        with write_transaction(self._engine) as conn:
            conn.execute(
                update(Upload)
                .where(Upload.id == info.id, Upload.h_instancia == info.h_instancia)
                .values(state=TERMINATED, updated_at=self.now())
            )
            emit(
                conn,
                "upload",
                h_instancia=info.h_instancia,
                subject=info.id,
                data={"state": TERMINATED, "length": info.length, "offset": info.offset},
            )
        self._remove(instance.h_instancia, instance.blob_prefix, upload_id)

    def _remove(self, h_instancia: str, blob_prefix: str, upload_id: str) -> None:
        """An upload's bytes, then its row (a crash between leaves a terminated row that
        `tzzr gc` finishes). A completed upload's blob stays: an entry may use it."""
        row = self._row(h_instancia, upload_id)
        if row is None:
            return
        if row.state != COMPLETE:
            self.backend.discard(self._blobs.scoped(blob_prefix), upload_id, row.storage)
        with write_transaction(self._engine) as conn:
            conn.execute(
                delete(Upload).where(Upload.id == upload_id, Upload.h_instancia == h_instancia)
            )

    def finished(self, h_instancia: str) -> list[UploadInfo]:
        """The instance's uploads that `tzzr gc` removes: expired or terminated."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Upload).where(
                    Upload.h_instancia == h_instancia,
                    (Upload.expires_at <= self.now()) | (Upload.state == TERMINATED),
                )
            ).all()
        return [_info(row) for row in rows]

    def remove(self, info: UploadInfo, blob_prefix: str) -> None:
        self._remove(info.h_instancia, blob_prefix, info.id)

    def blobs_in_use(self, h_instancia: str) -> set[str]:
        """Digests of completed uploads that have not expired: an ingest may name them."""
        with self._engine.connect() as conn:
            return {
                digest
                for digest in conn.execute(
                    select(Upload.sha256).where(
                        Upload.h_instancia == h_instancia,
                        Upload.state == COMPLETE,
                        Upload.expires_at > self.now(),
                    )
                ).scalars()
                if digest
            }

    def known_ids(self) -> set[str]:
        with self._engine.connect() as conn:
            return set(conn.execute(select(Upload.id)).scalars())


class Patch:
    """One PATCH (or creation-with-upload): bytes hashed and appended as they come;
    `finish` verifies its Upload-Checksum, makes it durable, and completes the upload at
    its last byte. Without a checksum the bytes are made durable every CHECKPOINT_BYTES,
    and `keep` saves what arrived before a cut connection."""

    def __init__(
        self,
        uploads: Uploads,
        instance: InstanceInfo,
        info: UploadInfo,
        hasher: ResumableSha256,
        appender: Appender,
    ) -> None:
        self._uploads = uploads
        self._instance = instance
        self.info = info
        self._hasher = hasher
        self._appender = appender
        self._checksum: Any = None
        self.durable = info.offset
        self.offset = info.offset
        self._closed = False
        self._synced_at = time.monotonic()

    def expect_checksum(self) -> None:
        self._checksum = hashlib.sha256()

    def write(self, data: bytes) -> None:
        if self.offset + len(data) > self.info.length:
            raise TooLarge(
                f"this PATCH goes past Upload-Length {self.info.length} (offset {self.offset} "
                f"+ {len(data)} bytes); send only the remaining "
                f"{self.info.length - self.offset} bytes"
            )
        self._hasher.update(data)
        if self._checksum is not None:
            self._checksum.update(data)
        self._appender.write(data)
        self.offset += len(data)
        if self._checksum is None and (
            self.offset - self.durable >= CHECKPOINT_BYTES
            or time.monotonic() - self._synced_at >= CHECKPOINT_SECONDS
        ):
            self._sync()

    def _sync(self) -> None:
        if self.offset == self.durable:
            return
        storage = self._appender.sync()
        self._uploads._record(self.info, self.durable, self.offset, self._hasher.state(), storage)
        self._appender.synced()
        self.durable = self.offset
        self._synced_at = time.monotonic()

    def _rollback(self) -> None:
        """Back to this PATCH's last recorded offset, unless the row moved on from it:
        another writer (a second server, docs/packet.md) recorded bytes past it, or the
        upload was completed (a local file may be the blob now) or terminated; those
        bytes are not this PATCH's to cut."""
        row = self._uploads._row(self.info.h_instancia, self.info.id)
        if row is not None and row.state == OPEN and row.offset == self.durable:
            self._appender.rollback()

    def keep(self) -> None:
        """The client went away: what arrived is kept (none of it when a checksum was
        asked for, since it cannot be verified)."""
        try:
            if self._checksum is None:
                self._sync()
            else:
                self._rollback()
        finally:
            self.close()

    def finish(self, checksum: bytes | None) -> UploadInfo:
        try:
            if checksum is not None and (
                self._checksum is None or self._checksum.digest() != checksum
            ):
                self._rollback()
                raise ChecksumMismatch(
                    "the bytes of this PATCH do not match its Upload-Checksum; they were "
                    f"discarded: send them again from offset {self.durable}",
                    field="Upload-Checksum",
                )
            if self.offset != self.durable or self.offset == self.info.length:
                storage = self._appender.sync()
                if self.offset != self.durable:
                    self._uploads._record(
                        self.info, self.durable, self.offset, self._hasher.state(), storage
                    )
                    self._appender.synced()
                    self.durable = self.offset
            else:
                storage = None
        finally:
            self.close()
        if self.offset == self.info.length:
            info = self._uploads.get(self._instance, self.info.id)
            return self._uploads._complete(self._instance, info, self._hasher, storage)
        return self._uploads.get(self._instance, self.info.id)

    def abort(self) -> None:
        if not self._closed:
            try:
                self._rollback()
            finally:
                self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._appender.close()
