"""Recording containers: blobs first (content-addressed, idempotent), then one DB
transaction for the entry, so there is never an entry without its blobs."""

import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Protocol, Self

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from tzzr import jsonlimits
from tzzr.blobs import BlobStore, BlobWriter, StoredBlob
from tzzr.canonical import canonical_json, check_ijson, h_entrada
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Entry, EntryFile, utcnow
from tzzr.devices.registry import Claim, Devices, parse_claim
from tzzr.errors import Duplicate, InvalidInput, TooLarge
from tzzr.instances import InstanceInfo
from tzzr.search import index as search_index
from tzzr.sentinel.events import emit, emit_now
from tzzr.states import EntryState
from tzzr.times import rfc3339

MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
DIGEST_HEADER = re.compile(r"sha-256=:([A-Za-z0-9+/=]+):")


@dataclass(frozen=True)
class FileRef:
    name: str
    media_type: str
    blob: StoredBlob

    def as_container_file(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "media_type": self.media_type,
            "sha256": self.blob.sha256,
            "size": self.blob.size,
        }


@dataclass(frozen=True)
class IngestResult:
    h_entrada: str
    h_instancia: str
    state: str
    created_at: datetime
    files: list[FileRef]

    def as_json(self) -> dict[str, Any]:
        return {
            "h_entrada": self.h_entrada,
            "h_instancia": self.h_instancia,
            "state": self.state,
            "created_at": rfc3339(self.created_at),
            "files": [{**f.as_container_file(), "path": f.blob.path} for f in self.files],
        }


def clean_name(name: str | None, position: int) -> str:
    # Keep only the last path component, whichever OS the client runs.
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip() if name else ""
    base = base or f"file-{position + 1}"
    if len(base) > 1024 or any(ord(c) < 32 for c in base):
        raise InvalidInput(
            "file names must be at most 1024 characters without control characters",
            field=f"files[{position}].name",
        )
    return base


def clean_media_type(media_type: str | None, name: str, position: int) -> str:
    value = (media_type or "").split(";", 1)[0].strip().lower()
    if not value or value == "application/octet-stream":
        value = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if not MEDIA_TYPE.fullmatch(value) or len(value) > 255:
        raise InvalidInput(
            f"{media_type!r} is not a media type like 'image/jpeg'",
            field=f"files[{position}].media_type",
        )
    return value


def parse_metadata(raw: bytes | str | Any, max_bytes: int) -> dict[str, Any]:
    if isinstance(raw, bytes | str):
        if len(raw) > max_bytes:
            raise TooLarge(f"metadata is larger than the limit of {max_bytes} bytes")
        raw = jsonlimits.loads(raw, "metadata")
    else:
        jsonlimits.check_depth(raw, "metadata")  # before canonical_json recurses into it
    if not isinstance(raw, dict):
        raise InvalidInput("metadata must be a JSON object", field="metadata")
    check_ijson(raw, "metadata")  # NUL, say: a JSON column refuses it after the blobs are in
    if len(canonical_json(raw)) > max_bytes:
        raise TooLarge(f"metadata is larger than the limit of {max_bytes} bytes")
    return raw


class Router(Protocol):
    def route(
        self,
        conn: Connection,
        instance: InstanceInfo,
        h_entrada: str,
        metadata: dict[str, Any],
        files: list[dict[str, Any]],
        now: datetime,
    ) -> tuple[EntryState, str | None]: ...

    def dispatch(self, execution_id: str, delay: float = 0) -> None: ...


class Previewer(Protocol):
    def add(
        self,
        conn: Connection,
        instance: InstanceInfo,
        files: list[dict[str, Any]],
        now: datetime,
    ) -> list[str]: ...

    def dispatch(self, h_instancia: str, run_ids: list[str]) -> None: ...


class CompletedUploads(Protocol):
    def completed_blob(self, instance: InstanceInfo, sha256: str) -> StoredBlob | None:
        """None for no such upload; InvalidInput for one that expires too soon."""
        ...


class IngestService:
    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore,
        settings: Settings,
        router: Router | None = None,
        previews: Previewer | None = None,
        uploads: CompletedUploads | None = None,
    ) -> None:
        """`router` (ALFRED) routes a capture to its flow inside the entry's
        transaction; without one every capture stays `received`. `previews` queues the
        preview runs of its images, PDFs and audio in the same transaction."""
        self._engine = engine
        self._blobs = blobs
        self.settings = settings
        self.router = router
        self.previews = previews
        self.uploads = uploads  # files named by sha256: completed tus uploads (tzzr.uploads)
        self.devices = Devices(engine)  # a capture's device signature is checked here

    def store_for(self, instance: InstanceInfo) -> BlobStore:
        return self._blobs.scoped(instance.blob_prefix)

    def builder(self, instance: InstanceInfo) -> "ContainerBuilder":
        return ContainerBuilder(self, instance)

    def record(
        self,
        instance: InstanceInfo,
        metadata: dict[str, Any],
        files: list[FileRef],
        device: Claim | None = None,
    ) -> IngestResult:
        """`device`: a signature already checked (`Devices.check`) over this capture's
        address, stored with the entry in its transaction."""
        instance.check_metadata(metadata)
        container_files = [f.as_container_file() for f in files]
        address = h_entrada(metadata, container_files)
        created_at = utcnow()
        state, execution, previews = EntryState.RECEIVED, None, []
        try:
            with write_transaction(self._engine) as conn:
                if self.router is not None:
                    state, execution = self.router.route(
                        conn, instance, address, metadata, container_files, created_at
                    )
                entry_id = conn.execute(
                    insert(Entry)
                    .values(
                        h_instancia=instance.h_instancia,
                        h_entrada=address,
                        contenedor={"metadata": metadata, "files": container_files},
                        r2_paths=[f.blob.path for f in files],
                        state=state,
                        created_at=created_at,
                    )
                    .returning(Entry.id)
                ).scalar_one()
                if device is not None:
                    self.devices.bind(conn, instance, entry_id, device)
                emit(
                    conn,
                    "ingest",
                    h_instancia=instance.h_instancia,
                    subject=address,
                    data={
                        "files": len(files),
                        "bytes": sum(f.blob.size for f in files),
                        "state": state,
                    },
                    ts=created_at,
                )
                if files:
                    conn.execute(
                        insert(EntryFile),
                        [
                            {"entry_id": entry_id, "position": i, **f.as_container_file()}
                            for i, f in enumerate(files)
                        ],
                    )
                search_index.index_new(
                    conn,
                    entry_id,
                    instance.h_instancia,
                    {"metadata": metadata, "files": container_files},
                )
                if self.previews is not None and files:
                    previews = self.previews.add(conn, instance, container_files, created_at)
        except IntegrityError:
            if self._exists(instance, address):
                emit_now(
                    self._engine, "duplicate", h_instancia=instance.h_instancia, subject=address
                )
                raise Duplicate(address, instance.h_instancia) from None
            raise
        if previews and self.previews is not None:
            self.previews.dispatch(instance.h_instancia, previews)  # quick: a person waits
        if execution is not None and self.router is not None:
            self.router.dispatch(execution)  # a lost message is re-queued by the reaper
        return IngestResult(address, instance.h_instancia, state, created_at, files)

    def _exists(self, instance: InstanceInfo, address: str) -> bool:
        with self._engine.connect() as conn:
            return (
                conn.execute(
                    select(Entry.id).where(
                        Entry.h_instancia == instance.h_instancia, Entry.h_entrada == address
                    )
                ).first()
                is not None
            )


class ContainerBuilder:
    """Collects one container's metadata and files as they stream in.

    Files stay in temporary storage until `finish()`: an error anywhere (bad part,
    limit exceeded, client gone) discards them all, so nothing is half written.
    """

    def __init__(self, service: IngestService, instance: InstanceInfo) -> None:
        self._service = service
        self._settings = service.settings
        self.instance = instance
        self._store = service.store_for(instance)
        self.metadata: dict[str, Any] | None = None
        self.device: Claim | None = None
        self._pending: list[tuple[str, str, BlobWriter | StoredBlob, str | None]] = []
        self.bytes_received = 0

    @property
    def file_count(self) -> int:
        return len(self._pending)

    @property
    def max_metadata_bytes(self) -> int:
        return self._settings.max_metadata_bytes

    def set_metadata(self, raw: bytes | str | Any) -> None:
        if self.metadata is not None:
            raise InvalidInput(
                "metadata was sent twice; send one 'metadata' field", field="metadata"
            )
        metadata = parse_metadata(raw, self._settings.max_metadata_bytes)
        self.instance.check_metadata(metadata)
        self.metadata = metadata

    def set_device(self, raw: bytes | str | dict[str, Any] | Claim) -> None:
        """The capture's `device` {"id", "signature"}; checked in `finish`, over the
        address of everything that was sent, before any blob is published."""
        if self.device is not None:
            raise InvalidInput("device was sent twice; send one 'device' field", field="device")
        self.device = parse_claim(raw)

    def new_file(
        self, name: str | None, media_type: str | None, expected_sha256: str | None = None
    ) -> BlobWriter:
        position = len(self._pending)
        if position >= self._settings.max_files:
            raise TooLarge(f"a container holds at most {self._settings.max_files} files")
        clean = clean_name(name, position)
        kind = clean_media_type(media_type, clean, position)
        if expected_sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expected_sha256):
            raise InvalidInput(
                "sha256 must be 64 hexadecimal characters", field=f"files[{position}].sha256"
            )
        writer = self._store.writer(self._settings.max_file_bytes)
        self._pending.append((clean, kind, writer, expected_sha256))
        return writer

    def add_uploaded(self, name: str | None, media_type: str | None, sha256: str) -> None:
        """A file sent before through tus (`/uploads`), named by its digest: the blob of a
        completed upload of this instance, used as if its bytes came inline."""
        position = len(self._pending)
        if position >= self._settings.max_files:
            raise TooLarge(f"a container holds at most {self._settings.max_files} files")
        clean = clean_name(name, position)
        kind = clean_media_type(media_type, clean, position)
        field = f"files[{position}].sha256"
        if not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise InvalidInput("sha256 must be 64 hexadecimal characters", field=field)
        uploads = self._service.uploads
        try:
            blob = None if uploads is None else uploads.completed_blob(self.instance, sha256)
        except InvalidInput as exc:  # expires too soon: named by its place here
            raise InvalidInput(exc.message, field=field) from None
        if blob is None:
            raise InvalidInput(
                f"no completed upload with sha256 {sha256.lower()} in this instance: upload "
                "the file through /uploads first (an expired upload is gone), or send it "
                "inline as content",
                field=field,
            )
        self._pending.append((clean, kind, blob, None))

    def count(self, size: int) -> None:
        self.bytes_received += size
        if self.bytes_received > self._settings.max_request_bytes:
            raise TooLarge(
                f"the request is larger than the limit of {self._settings.max_request_bytes} bytes"
            )

    def finish(self) -> IngestResult:
        # Check every declared digest before publishing any blob.
        for position, (_, _, writer, expected) in enumerate(self._pending):
            if isinstance(writer, BlobWriter):
                writer.check(expected, field=f"files[{position}].sha256")
        if self.device is not None:
            address = h_entrada(
                self.metadata or {},
                [
                    {"name": n, "media_type": t, "sha256": w.sha256, "size": w.size}
                    for n, t, w, _ in self._pending
                ],
            )
            self._service.devices.check(self.instance, self.device, address)
        files: list[FileRef] = []
        for name, media_type, writer, _ in self._pending:
            blob = writer.commit() if isinstance(writer, BlobWriter) else writer
            files.append(FileRef(name, media_type, blob))
        return self._service.record(self.instance, self.metadata or {}, files, self.device)

    def abort(self) -> None:
        for _, _, writer, _ in self._pending:
            if isinstance(writer, BlobWriter):
                writer.abort()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()
