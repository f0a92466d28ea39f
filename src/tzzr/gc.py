"""`tzzr gc`: find and remove blobs no entry references (left by a crash between the
blob write and the entry's transaction), stale temporary uploads, and tus uploads that
expired or were terminated (their bytes: local files, S3 multipart uploads aborted)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from tzzr.blobs import BlobStore
from tzzr.blobs.local import LocalBlobStore
from tzzr.db.models import Entry, EntryFile, Execution, Run, RunArtifact
from tzzr.instances import Instances
from tzzr.uploads.service import UploadInfo, Uploads


@dataclass(frozen=True)
class Orphan:
    instance: str
    sha256: str
    size: int


@dataclass
class GcReport:
    orphans: list[Orphan] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)
    uploads: list[UploadInfo] = field(default_factory=list)
    stray_multipart: list[str] = field(default_factory=list)
    removed: bool = False

    @property
    def orphan_bytes(self) -> int:
        return sum(o.size for o in self.orphans)


def _stale_files(directory: Path, older_than: datetime) -> Iterator[Path]:
    if directory.is_dir():
        for path in directory.iterdir():
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < older_than:
                yield path


def collect(
    engine: Engine,
    blobs: BlobStore,
    instances: Instances,
    *,
    spool_dir: Path,
    grace: timedelta,
    dry_run: bool,
    uploads: Uploads | None = None,
) -> GcReport:
    """Blobs younger than `grace` are kept: an ingest may be between its blob
    commit and its entry transaction right now. So are the blobs of completed uploads
    that have not expired: an ingest may name them by sha256."""
    cutoff = datetime.now(UTC) - grace
    report = GcReport(removed=not dry_run)
    for instance in instances.list():
        if uploads is not None:
            for upload in uploads.finished(instance.h_instancia):
                report.uploads.append(upload)
                if not dry_run:
                    uploads.remove(upload, instance.blob_prefix)
        with engine.connect() as conn:
            referenced = set(
                conn.execute(
                    select(EntryFile.sha256)
                    .join(Entry, Entry.id == EntryFile.entry_id)
                    .where(Entry.h_instancia == instance.h_instancia)
                ).scalars()
            )
            # A run's input and result are blobs of its instance too.
            for column in (Run.input_sha, Run.result_sha):
                referenced.update(
                    digest
                    for digest in conn.execute(
                        select(column).where(Run.h_instancia == instance.h_instancia).distinct()
                    ).scalars()
                    if digest
                )
            referenced.update(
                conn.execute(
                    select(RunArtifact.sha256).where(
                        RunArtifact.h_instancia == instance.h_instancia
                    )
                ).scalars()
            )
            # An execution's own input (`/execute` with one), before its first step ran.
            referenced.update(
                given["sha256"]
                for given in conn.execute(
                    select(Execution.input).where(
                        Execution.h_instancia == instance.h_instancia, Execution.input.is_not(None)
                    )
                ).scalars()
                if isinstance(given, dict) and given.get("sha256")
            )
        if uploads is not None:
            referenced |= uploads.blobs_in_use(instance.h_instancia)
        store = blobs.scoped(instance.blob_prefix)
        for info in store.list():
            if info.sha256 not in referenced and info.modified < cutoff:
                report.orphans.append(Orphan(instance.name, info.sha256, info.size))
                if not dry_run:
                    store.delete(info.sha256)
    temp_dirs = [spool_dir]
    if isinstance(blobs, LocalBlobStore):
        temp_dirs.append(blobs.root / ".tmp")
    for directory in temp_dirs:
        for path in _stale_files(directory, cutoff):
            report.temp_files.append(path)
            if not dry_run:
                path.unlink(missing_ok=True)
    if uploads is not None:  # pieces of uploads with no row (a crash inside a creation)
        known = uploads.known_ids()
        for instance in instances.list():
            report.stray_multipart += uploads.backend.stray_remote(
                blobs.scoped(instance.blob_prefix), known, cutoff, not dry_run
            )
        for path in uploads.backend.stray_files():
            if path.name.split(".", 1)[0] not in known and _older(path, cutoff):
                report.temp_files.append(path)
                if not dry_run:
                    path.unlink(missing_ok=True)
    return report


def _older(path: Path, cutoff: datetime) -> bool:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff
