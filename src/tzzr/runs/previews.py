"""Previews made at ingest: a run of the `preview` cell for each image, PDF and audio file
of an entry, written in the entry's own transaction (an acknowledged capture never lacks
its preview's run) and executed by the workers like any run; the thumbnails and the
waveform are that run's artifacts. No flow needs to ask for them.

A file's preview run has an id derived from the file's sha256 (`run_id`), so the same
file in many entries is previewed once, and finding a file's preview is a primary-key
lookup. The run is queued with a lease, as executions are: if its queue message is lost
(the queue was down at ingest), the reaper queues it again once the lease runs out."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from tzzr.blobs import BlobStore
from tzzr.cells.base import Cell
from tzzr.cells.registry import Registry
from tzzr.config import Settings
from tzzr.db.models import Entry, EntryFile, Run, RunArtifact
from tzzr.db.rows import instance_row
from tzzr.errors import InvalidInput, NotFound, Unavailable
from tzzr.instances import InstanceInfo
from tzzr.queue import RunQueue, run_message
from tzzr.runs.service import params_hash
from tzzr.sentinel import tracing
from tzzr.sentinel.events import emit
from tzzr.states import RunStatus
from tzzr.types import is_hex_digest

log = logging.getLogger("tzzr.previews")

CELL = "preview"
THUMB, LARGE, WAVEFORM = "thumb.webp", "large.webp", "waveform.webp"
NAMES = (THUMB, LARGE, WAVEFORM)
RUN_PREFIX = "preview-"


class PreviewStatus(StrEnum):
    """A file's preview, as `GET /entries/{h_entrada}/previews` says it."""

    PENDING = "pending"  # its run is queued or running
    DONE = "done"
    FAILED = "failed"  # failed, timed out or cancelled: `error` says why
    NONE = "none"  # not an image, PDF or audio file, or stored before previews were made


STATUS = {
    RunStatus.QUEUED: PreviewStatus.PENDING,
    RunStatus.RUNNING: PreviewStatus.PENDING,
    RunStatus.DONE: PreviewStatus.DONE,
}


@dataclass(frozen=True)
class Image:
    """A preview as stored: a blob of the instance."""

    sha256: str
    media_type: str
    size: int


def preview_kind(media_type: str) -> str | None:
    """The payload type a file is previewed as, or None (nothing to preview). SVG is an
    image that is a program: it is not rasterized."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind == "application/pdf":
        return "pdf"
    if kind.startswith("audio/"):
        return "audio"
    if kind.startswith("image/") and "svg" not in kind:
        return "image"
    return None


def run_id(sha256: str) -> str:
    """The id of the preview run of the file `sha256` (224 of its bits: run ids are at
    most 64 characters)."""
    return RUN_PREFIX + sha256[: 64 - len(RUN_PREFIX)]


def url(sha256: str, name: str) -> str:
    return f"/previews/{sha256}/{name}"


def _insert_once(conn: Connection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: a file previewed before keeps its run, and the
    entry's transaction goes on."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(Run).on_conflict_do_nothing()


class Previews:
    def __init__(
        self,
        engine: Engine,
        cells: Registry,
        queue: RunQueue,
        blobs: BlobStore,
        settings: Settings,
    ) -> None:
        """Without an installed `preview` cell nothing is made at ingest (what was
        made before is still served)."""
        self._engine = engine
        self._queue = queue
        self._blobs = blobs
        self._settings = settings
        try:
            self.cell: Cell | None = cells.get(CELL)
        except NotFound:
            self.cell = None

    # -- at ingest: in the entry's transaction, then after it -----------------------------
    def add(
        self,
        conn: Connection,
        instance: InstanceInfo,
        files: list[dict[str, Any]],
        now: datetime,
    ) -> list[str]:
        """Queue a preview run for each file that has none yet (inside the ingest
        transaction); the ids of those queued, to `dispatch` once it commits."""
        if self.cell is None:
            return []
        cell, queued, seen = self.cell, [], set()
        for file in files:
            kind = preview_kind(file["media_type"])
            if kind is None or file["sha256"] in seen:
                continue
            seen.add(file["sha256"])
            statement: Insert = _insert_once(conn)
            made = conn.execute(
                statement.values(
                    id=run_id(file["sha256"]),
                    h_instancia=instance.h_instancia,
                    cell_id=cell.meta.id,
                    cell_version=cell.meta.version,
                    queue=str(getattr(cell, "queue", "cpu")),
                    status=RunStatus.QUEUED,
                    input_sha=file["sha256"],
                    input_type=kind,
                    media_type=file["media_type"],
                    lang=None,
                    params={},
                    params_hash=params_hash({}, None, kind),
                    attempt=0,
                    max_attempts=self._settings.run_max_attempts,
                    timeout_s=self._settings.run_timeout_seconds,
                    # a queued run whose message was lost is queued again after this
                    lease_until=now + timedelta(seconds=10 * self._settings.run_lease_seconds),
                    created_at=now,
                    traceparent=tracing.carrier(),
                ).returning(Run.id)
            ).first()
            if made is None:
                continue  # previewed (or being previewed) already
            emit(
                conn,
                "run_queued",
                h_instancia=instance.h_instancia,
                subject=made.id,
                data={"cell": cell.meta.id, "version": cell.meta.version, "reused": False},
                ts=now,
            )
            queued.append(made.id)
        return queued

    def dispatch(self, h_instancia: str, run_ids: list[str]) -> None:
        """The queue messages of runs `add` wrote. A queue that is down loses nothing:
        the capture is stored, and the reaper queues each run again."""
        queue = str(getattr(self.cell, "queue", "cpu"))
        for queued in run_ids:
            try:
                self._queue.enqueue(queue, run_message(h_instancia, queued))
            except Unavailable as exc:
                log.warning("preview run %s waits for the reaper: %s", queued, exc.message)

    # -- reading --------------------------------------------------------------------------
    def of_entry(self, instance: InstanceInfo, h_entrada: str) -> dict[str, Any]:
        """Each file of the entry with its preview's status, URLs and figures."""
        if not is_hex_digest(h_entrada):
            raise InvalidInput("h_entrada must be 64 lowercase hex characters", field="h_entrada")
        missing = f"no entry {h_entrada} in this instance"
        mine = instance.h_instancia
        with self._engine.connect() as conn:
            entry = instance_row(conn, Entry, mine, missing, h_entrada=h_entrada)
            files = conn.execute(
                select(EntryFile).where(EntryFile.entry_id == entry.id).order_by(EntryFile.position)
            ).all()
            ids = [run_id(f.sha256) for f in files if preview_kind(f.media_type)]
            runs = {
                row.id: row
                for row in conn.execute(select(Run).where(Run.h_instancia == mine, Run.id.in_(ids)))
                if row.cell_id == CELL
            }
            made: dict[str, set[str]] = {}
            for run, name in conn.execute(
                select(RunArtifact.run_id, RunArtifact.name).where(
                    RunArtifact.h_instancia == mine, RunArtifact.run_id.in_(list(runs))
                )
            ):
                made.setdefault(run, set()).add(name)
        store = self._blobs.scoped(instance.blob_prefix)
        return {
            "h_entrada": h_entrada,
            "files": [self._file(f, runs.get(run_id(f.sha256)), made, store) for f in files],
        }

    def _file(
        self, file: Any, run: Any, made: dict[str, set[str]], store: BlobStore
    ) -> dict[str, Any]:
        kind = preview_kind(file.media_type)
        if run is not None and run.input_sha != file.sha256:
            run = None  # an id someone chose for a run of their own
        found: dict[str, Any] = {
            "sha256": file.sha256,
            "name": file.name,
            "media_type": file.media_type,
            "kind": kind,
            "status": PreviewStatus.NONE,
            "runId": None,
            **{name.removesuffix(".webp"): None for name in NAMES},
            "width": None,
            "height": None,
            "duration": None,
            "error": None,
        }
        if kind is None or run is None:
            return found
        found["runId"] = run.id
        found["status"] = STATUS.get(run.status, PreviewStatus.FAILED)
        if found["status"] == PreviewStatus.FAILED:
            found["error"] = run.error
        if found["status"] != PreviewStatus.DONE:
            return found
        for name in sorted(made.get(run.id, ())):
            if name in NAMES:
                found[name.removesuffix(".webp")] = url(file.sha256, name)
        if run.result_sha is not None:
            try:
                result = json.loads(store.read_all(run.result_sha))
            except FileNotFoundError:  # referenced but gone (`tzzr audit` says so): no sizes
                result = {}
            for figure in ("width", "height", "duration", "pages", "truncated"):
                if figure in result:
                    found[figure] = result[figure]
        return found

    def image(self, instance: InstanceInfo, sha256: str, name: str) -> Image:
        """The preview `name` of the file `sha256` (its blob's digest, media type and
        size); 404 for a file of another instance, or one not previewed (yet)."""
        if not is_hex_digest(sha256):
            raise InvalidInput("sha256 must be 64 lowercase hex characters", field="sha256")
        if name not in NAMES:
            raise NotFound(f"no preview named {name!r}; previews are {', '.join(NAMES)}")
        mine = instance.h_instancia
        with self._engine.connect() as conn:
            row = conn.execute(
                select(RunArtifact.sha256, RunArtifact.media_type, RunArtifact.size)
                .join(
                    Run,
                    (Run.h_instancia == RunArtifact.h_instancia) & (Run.id == RunArtifact.run_id),
                )
                .where(
                    RunArtifact.h_instancia == mine,
                    RunArtifact.run_id == run_id(sha256),
                    RunArtifact.name == name,
                    Run.cell_id == CELL,
                    Run.input_sha == sha256,
                    Run.status == RunStatus.DONE,
                )
            ).first()
            if row is not None:
                return Image(row.sha256, row.media_type, row.size)
            status = conn.execute(
                select(Run.status).where(
                    Run.h_instancia == mine,
                    Run.id == run_id(sha256),
                    Run.cell_id == CELL,
                    Run.input_sha == sha256,
                )
            ).scalar()
        if status in (RunStatus.QUEUED, RunStatus.RUNNING):
            raise NotFound(f"the previews of {sha256} are being made ({status}); ask again soon")
        raise NotFound(f"no preview {name} of a file {sha256} in this instance")

    def read(self, instance: InstanceInfo, sha256: str) -> bytes:
        """A preview's bytes (small: held whole)."""
        try:
            return self._blobs.scoped(instance.blob_prefix).read_all(sha256)
        except FileNotFoundError as exc:
            raise NotFound(
                f"preview blob {sha256} is referenced but missing from the store; run `tzzr audit`"
            ) from exc
