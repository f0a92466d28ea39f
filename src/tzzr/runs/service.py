"""Runs: submit (store the input as a blob, reuse a finished identical run, or queue),
read, cancel, and what a cell's runs say about it (metrics, logs)."""

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tzzr.blobs import BlobStore
from tzzr.canonical import canonical_json
from tzzr.cells.base import Cell
from tzzr.cells.catalog import Catalog
from tzzr.cells.limits import check_input_size
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Run
from tzzr.errors import Conflict, InvalidInput, NotFound, TooLarge, Unavailable
from tzzr.instances import InstanceInfo
from tzzr.queue import RunQueue, run_message
from tzzr.runs import notify
from tzzr.sentinel import tracing
from tzzr.sentinel.events import emit
from tzzr.states import RUN_FAILED, RUN_TERMINAL, RunStatus, values
from tzzr.stats import p95, percentile
from tzzr.times import rfc3339_or_none
from tzzr.types import is_hex_digest
from tzzr.validation import base64_field, one_of

TERMINAL = RUN_TERMINAL
STATUSES = values(RunStatus)
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class RunInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64)
    encoding: Literal["base64", "blob", "url"]
    content: str
    media_type: str | None = Field(default=None, max_length=255)
    lang: str | None = Field(default=None, max_length=64)


class RunBody(BaseModel):
    """`POST /api/cells/{id}/run`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    run_id: str | None = Field(default=None, alias="runId", pattern=RUN_ID.pattern)
    version: str | None = None
    input: RunInput | None = None  # none: a cell that takes no input (a renderer)
    params: dict[str, Any] = {}


def params_hash(params: dict[str, Any], lang: str | None, input_type: str) -> str:
    """What, besides the input and the cell version, decides a run's result."""
    return hashlib.sha256(
        canonical_json({"params": params, "lang": lang, "type": input_type})
    ).hexdigest()


def run_json(row: Any) -> dict[str, Any]:
    return {
        "runId": row.id,
        "cellId": row.cell_id,
        "cellVersion": row.cell_version,
        "queue": row.queue,
        "status": row.status,
        "attempt": row.attempt,
        "maxAttempts": row.max_attempts,
        "input": {
            "type": row.input_type,
            "sha256": row.input_sha,
            "mediaType": row.media_type,
            "lang": row.lang,
        },
        "params": row.params,
        "paramsHash": row.params_hash,
        "createdAt": rfc3339_or_none(row.created_at),
        "startedAt": rfc3339_or_none(row.started_at),
        "finishedAt": rfc3339_or_none(row.finished_at),
        "resultUrl": f"/blobs/{row.result_sha}" if row.result_sha else None,
        "resultHash": row.result_sha,
        "metrics": row.metrics,
        "error": row.error,
        "reusedFrom": row.reused_from,
        "leafIndex": row.leaf_index,
    }


def store_input(
    store: BlobStore,
    given: RunInput,
    limit: int,
    check: Callable[[int], None] | None = None,
) -> tuple[str, int]:
    """A run's (or an execution's) input as a blob of the instance: its digest and size.
    base64 is stored; a blob digest must name one the instance has; urls are refused.
    `check(size)` may refuse the input (a blob's by its stored size) before anything is
    stored or read."""
    if given.encoding == "base64":
        data = base64_field(given.content, "input.content")
        if len(data) > limit:
            raise TooLarge(f"the input is larger than the limit of {limit} bytes")
        if check is not None:
            check(len(data))
        stored = store.put(data)
        return stored.sha256, stored.size
    if given.encoding == "blob":
        digest = given.content.lower()
        if not is_hex_digest(digest):
            raise InvalidInput(
                "a blob input's content is the sha256 hex digest of a blob of this instance",
                field="input.content",
            )
        size = store.size(digest)
        if size is None:
            raise NotFound(f"no blob {digest} in this instance; ingest it first")
        if check is not None:
            check(size)
        return digest, size
    raise InvalidInput(
        "url inputs are not fetched by the server (it would reach into your network "
        "for anyone with a key); ingest the file and send its blob digest",
        field="input.encoding",
    )


@dataclass
class Submitted:
    run_id: str
    status: str
    created: bool


class Runs:
    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        queue: RunQueue,
        blobs: BlobStore,
        settings: Settings,
    ) -> None:
        self._engine = engine
        self.catalog = catalog
        self.queue = queue
        self._blobs = blobs
        self._settings = settings

    def _store(self, instance: InstanceInfo) -> BlobStore:
        return self._blobs.scoped(instance.blob_prefix)

    def submit(self, instance: InstanceInfo, cell_id: str, body: RunBody) -> Submitted:
        cell = self.catalog.get(instance.h_instancia, cell_id, body.version)
        given = body.input or RunInput(type="none", encoding="base64", content="")
        if given.type not in cell.accepts:
            if body.input is None:
                raise InvalidInput(f"{cell.meta.id} needs an input", field="input")
            raise InvalidInput(
                f"{cell.meta.id} takes inputs of type {', '.join(sorted(cell.accepts))}, "
                f"not {given.type!r}",
                field="input.type",
            )
        check = getattr(cell, "check_params", None)
        if check is not None:
            check(body.params)  # a bad parameter is a 422 now, not a failed run later
        p_hash = params_hash(body.params, given.lang, given.type)
        if body.run_id is not None:
            existing = self._row(instance, body.run_id)
            if existing is not None:
                return self._same_run(existing, cell, p_hash)
        limit = self._settings.cell_max_input_bytes
        input_sha, _ = store_input(
            self._store(instance),
            given,
            self._settings.max_json_body_bytes,
            lambda size: check_input_size(cell, size, limit),  # 413 now, before it is stored
        )
        run_id = body.run_id or uuid.uuid4().hex
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "id": run_id,
            "h_instancia": instance.h_instancia,
            "cell_id": cell.meta.id,
            "cell_version": cell.meta.version,
            "queue": str(getattr(cell, "queue", "cpu")),
            "input_sha": input_sha,
            "input_type": given.type,
            "media_type": given.media_type,
            "lang": given.lang,
            "params": body.params,
            "params_hash": p_hash,
            "attempt": 0,
            "max_attempts": self._settings.run_max_attempts,
            "timeout_s": float(
                getattr(cell, "timeout_s", None) or self._settings.run_timeout_seconds
            ),
            "created_at": now,
            "traceparent": tracing.carrier(),
        }
        done = self._finished_twin(instance, cell, input_sha, p_hash)
        if done is not None:
            metrics = dict(done.metrics or {})
            metrics.update(reused=True, latencyMs=0.0)
            values.update(
                status=RunStatus.DONE,
                started_at=now,
                finished_at=now,
                result_sha=done.result_sha,
                metrics=metrics,
                reused_from=done.id,
                leaf_index=done.leaf_index,
            )
        else:
            values["status"] = RunStatus.QUEUED
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(insert(Run).values(**values))
                emit(
                    conn,
                    "run_queued" if values["status"] == RunStatus.QUEUED else "run_done",
                    h_instancia=instance.h_instancia,
                    subject=run_id,
                    data={
                        "cell": cell.meta.id,
                        "version": cell.meta.version,
                        "reused": values["status"] == RunStatus.DONE,
                    },
                )
        except IntegrityError as exc:
            raise Conflict(f"run id {run_id!r} is taken; choose another or omit it") from exc
        if values["status"] == RunStatus.QUEUED:
            try:
                self.queue.enqueue(values["queue"], run_message(instance.h_instancia, run_id))
            except Unavailable as exc:
                self._set(
                    instance,
                    run_id,
                    RunStatus.FAILED,
                    error={"code": "unavailable", "message": exc.message},
                )
                raise
        return Submitted(run_id, values["status"], created=True)

    def _same_run(self, row: Any, cell: Cell, p_hash: str) -> Submitted:
        """A retried submission with the same runId answers the run it made."""
        if row.cell_id != cell.meta.id or row.params_hash != p_hash:
            raise Conflict(
                f"run {row.id!r} exists with another cell, input or params; "
                "use a new runId for a new run"
            )
        return Submitted(row.id, row.status, created=False)

    def _finished_twin(
        self, instance: InstanceInfo, cell: Cell, input_sha: str, p_hash: str
    ) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(
                select(Run)
                .where(
                    Run.h_instancia == instance.h_instancia,
                    Run.cell_id == cell.meta.id,
                    Run.cell_version == cell.meta.version,
                    Run.input_sha == input_sha,
                    Run.params_hash == p_hash,
                    Run.status == RunStatus.DONE,
                    Run.reused_from.is_(None),
                )
                .limit(1)
            ).first()

    def _row(self, instance: InstanceInfo, run_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(
                select(Run).where(Run.h_instancia == instance.h_instancia, Run.id == run_id)
            ).first()

    def _set(self, instance: InstanceInfo, run_id: str, status: str, **values: Any) -> None:
        with write_transaction(self._engine) as conn:
            conn.execute(
                update(Run)
                .where(Run.h_instancia == instance.h_instancia, Run.id == run_id)
                .values(status=status, finished_at=datetime.now(UTC), lease_until=None, **values)
            )

    def get(self, instance: InstanceInfo, run_id: str) -> Any:
        row = self._row(instance, run_id) if RUN_ID.fullmatch(run_id) else None
        if row is None:
            raise NotFound(f"no run {run_id!r} in this instance")
        return row

    def result(self, instance: InstanceInfo, run_id: str) -> bytes:
        row = self.get(instance, run_id)
        if row.status != RunStatus.DONE or row.result_sha is None:
            raise Conflict(f"run {run_id} is {row.status}; it has no result")
        return self._store(instance).read_all(row.result_sha)

    def cancel(self, instance: InstanceInfo, run_id: str) -> Any:
        """Cancel a queued or running run (a running cell's answer is then discarded)."""
        row = self.get(instance, run_id)
        with write_transaction(self._engine) as conn:
            changed = conn.execute(
                update(Run)
                .where(
                    Run.h_instancia == instance.h_instancia,
                    Run.id == run_id,
                    Run.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
                )
                .values(
                    status=RunStatus.CANCELLED,
                    finished_at=datetime.now(UTC),
                    lease_until=None,
                    error={"code": "cancelled", "message": "cancelled by request"},
                )
            ).rowcount
        if not changed:
            raise Conflict(f"run {run_id} is already {row.status}")
        notify.run_ended(self._settings, instance.h_instancia, run_id)  # wake ?wait=
        return self.get(instance, run_id)

    def list(
        self,
        instance: InstanceInfo,
        cell_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[Any]:
        query = select(Run).where(Run.h_instancia == instance.h_instancia)
        if cell_id is not None:
            query = query.where(Run.cell_id == cell_id)
        if status is not None:
            query = query.where(Run.status == one_of(status, STATUSES, "status"))
        with self._engine.connect() as conn:
            return list(conn.execute(query.order_by(Run.created_at.desc()).limit(limit)).all())

    def cell_metrics(self, instance: InstanceInfo, cell_id: str) -> dict[str, Any]:
        """Counts by status and latency percentiles of the instance's runs of a cell."""
        self.catalog.versions(instance.h_instancia, cell_id)  # 404 for an unknown cell
        with self._engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(Run.status, func.count())
                    .where(Run.h_instancia == instance.h_instancia, Run.cell_id == cell_id)
                    .group_by(Run.status)
                ).all()
            )
            recent = conn.execute(
                select(Run.metrics)
                .where(
                    Run.h_instancia == instance.h_instancia,
                    Run.cell_id == cell_id,
                    Run.status == RunStatus.DONE,
                    Run.reused_from.is_(None),
                )
                .order_by(Run.finished_at.desc())
                .limit(1000)
            ).scalars()
            latencies = sorted(
                float(m["latencyMs"]) for m in recent if m and m.get("latencyMs") is not None
            )
        total = sum(counts.values())
        failed = sum(counts.get(status, 0) for status in RUN_FAILED)
        finished = failed + counts.get(RunStatus.DONE, 0)
        return {
            "cellId": cell_id,
            "runs": {status: int(counts.get(status, 0)) for status in STATUSES},
            "total": int(total),
            "failureRate": round(failed / finished, 4) if finished else 0.0,
            "latencyMs": {
                "count": len(latencies),
                "p50": percentile(latencies, 0.50),
                "p95": p95(latencies),
                "max": latencies[-1] if latencies else None,
            },
        }
