"""One step of an execution as a cell run: the capture's file it reads (read once per
execution, and a batch's fetched at once from a remote blob store), its parameters
templated from the earlier steps, the cell's answer kept as blobs, and the run's record
(written by flows/runner.py with the execution's progress)."""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Engine, select

from tzzr.blobs import BlobStore
from tzzr.canonical import sha256_hex
from tzzr.cells.answers import ResultKeeper
from tzzr.cells.base import Payload
from tzzr.cells.catalog import Catalog
from tzzr.cells.invoke import Blob, invoke
from tzzr.config import Settings
from tzzr.db.models import Entry
from tzzr.errors import InvalidInput
from tzzr.flows.spec import Step, payload_type, render
from tzzr.instances import InstanceStores
from tzzr.runs.service import params_hash
from tzzr.states import RunStatus, StepStatus

log = logging.getLogger("tzzr.flows")

KEEP_FILE_BYTES = 4 * 1024 * 1024  # an execution keeps the files its steps read up to this
FETCH_THREADS = 8  # a batch's files fetched at once from a remote blob store
EMPTY_SHA = sha256_hex(b"")


class File(NamedTuple):
    """A file of the capture (or the given input) as steps read it."""

    sha: str
    kind: str  # the payload type: image, audio, text, bytes
    media: str | None
    size: int | None  # None: not recorded (a given input of an older execution)


@dataclass
class Inputs:
    """What an execution's steps see: the decision's names (`entry` and each finished
    step's output), the capture's files, and those already read (small ones, by sha256)."""

    scope: dict[str, Any]
    files: list[File]
    read: dict[str, bytes] = field(default_factory=dict)


class Steps:
    def __init__(
        self, engine: Engine, catalog: Catalog, blobs: BlobStore, settings: Settings
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._settings = settings
        self._store = InstanceStores(engine, blobs)
        self._remote_blobs = blobs.scheme == "s3"
        self._fetchers: ThreadPoolExecutor | None = None
        self._results = ResultKeeper()

    def inputs(self, row: Any) -> Inputs:
        """An execution's inputs: its entry (metadata, h_entrada, files) or its given
        input, and the outputs of the steps it finished."""
        if row.h_entrada is not None:
            with self._engine.connect() as conn:
                entry = conn.execute(
                    select(Entry.contenedor).where(
                        Entry.h_instancia == row.h_instancia, Entry.h_entrada == row.h_entrada
                    )
                ).scalar_one()
            files = [
                File(f["sha256"], payload_type(f["media_type"]), f["media_type"], f.get("size"))
                for f in entry.get("files", [])
            ]
            scope: dict[str, Any] = {
                "entry": {
                    "h_entrada": row.h_entrada,
                    "metadata": entry.get("metadata", {}),
                    "files": entry.get("files", []),
                }
            }
        else:
            given = row.input or {}
            files = [
                File(given["sha256"], given["type"], given.get("media_type"), given.get("size"))
            ]
            scope = {
                "entry": {"h_entrada": None, "metadata": {"lang": given.get("lang")}, "files": []}
            }
        for step in row.steps:
            if step.get("status") == StepStatus.DONE:
                scope[step["id"]] = step.get("output", {})
        return Inputs(scope, files)

    def prefetch(self, batch: list[tuple[str, Inputs]]) -> None:
        """From a remote blob store, the small files of a batch's executions (by
        h_instancia) are fetched at once: one round trip's wait for all, not one each."""
        wanted: dict[tuple[str, str], list[Inputs]] = {}
        for h_instancia, inputs in batch:
            for f in inputs.files:
                if f.size is not None and f.size <= KEEP_FILE_BYTES:
                    wanted.setdefault((h_instancia, f.sha), []).append(inputs)
        if not self._remote_blobs or len(wanted) < 2:
            return
        if self._fetchers is None:
            self._fetchers = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="tzzr-fetch")
        fetching = [
            (sha, readers, self._fetchers.submit(self._store(h).read_all, sha))
            for (h, sha), readers in wanted.items()
        ]
        for sha, readers, future in fetching:
            try:
                data = future.result()
            except Exception:  # the step reads it again, and says what is wrong
                log.debug("prefetching %s failed", sha, exc_info=True)
                continue
            for inputs in readers:
                inputs.read[sha] = data

    def run(self, row: Any, step: Step, inputs: Inputs) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run `step` of the execution `row` as the cell run `<execution>-<step>`: the
        step's outcome and the run's record."""
        run_id = f"{row.id}-{step.id}"
        store = self._store(row.h_instancia)
        cell = self._catalog.get(row.h_instancia, step.cell, step.version)
        takes_none = "none" in cell.accepts
        size: int | None = 0
        if (step.input or ("none" if takes_none else "entry")) == "none":
            sha, kind, media = EMPTY_SHA, "none", None
        else:
            wanted = [f for f in inputs.files if f.kind in cell.accepts] or inputs.files
            if not wanted:
                raise InvalidInput(f"step {step.id}: the capture has no file for {step.cell}")
            sha, kind, media, size = wanted[0]
        params = render(step.params, inputs.scope)
        lang = (render(step.lang, inputs.scope) if step.lang else None) or None
        source: Blob | Payload
        if kind == "none":
            source = Payload("none", b"")
        elif sha in inputs.read:  # the steps of an execution often read the same file
            source = Payload(kind, inputs.read[sha], media)
        else:
            source = Blob(store, sha, kind, media, size)  # size first: refused unread
        # the step's run record; flows set no timeout per step, so its run has the
        # settings' run timeout, and the cell is given the record's
        run: dict[str, Any] = {
            "id": run_id,
            "h_instancia": row.h_instancia,
            "cell_id": cell.meta.id,
            "cell_version": cell.meta.version,
            "queue": "flow",
            "status": RunStatus.DONE,
            "input_sha": sha,
            "input_type": kind,
            "media_type": media,
            "lang": lang,
            "params": params,
            "params_hash": params_hash(params, lang, kind),
            "attempt": 1,
            "max_attempts": 1,
            "timeout_s": self._settings.run_timeout_seconds,
            "worker": row.worker,
        }
        done = invoke(
            cell,
            run_id,
            source,
            params=params,
            lang=lang,
            timeout_s=run["timeout_s"],
            max_input_bytes=self._settings.cell_max_input_bytes,
            keep=self._results.into(store),
            trace={"flow": row.flow_id},
        )
        if isinstance(source, Blob) and len(done.payload.data) <= KEEP_FILE_BYTES:
            inputs.read[sha] = done.payload.data
        run.update(result_sha=done.kept.sha256, metrics=done.metrics, artifacts=done.kept.artifacts)
        outcome = {
            "id": step.id,
            "cell": step.cell,
            "status": StepStatus.DONE,
            "runId": run_id,
            "output": done.kept.result,
            "ms": done.latency_ms,
        }
        return outcome, run
