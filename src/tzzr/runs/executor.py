"""The worker's side of a run, on the durable-work core (tzzr.work): claim it under a
lease, invoke its cell with the run's own timeout while the process's heartbeat keeps
the lease alive, and finish it exactly once: the result as a blob and an `attestation`
leaf in the same transaction. A lease that runs out (its worker died) puts the run back
in the queue (`reap`)."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from tzzr.blobs import BlobStore
from tzzr.cells.answers import ResultKeeper
from tzzr.cells.catalog import Catalog
from tzzr.cells.invoke import Blob, Invoked, invoke
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Run, RunArtifact
from tzzr.errors import TzzrError
from tzzr.feldman.log import Ledger
from tzzr.instances import InstanceStores
from tzzr.queue import RunQueue, parse_run_message, run_message
from tzzr.runs import notify
from tzzr.runs.results import attestation
from tzzr.sentinel import tracing
from tzzr.sentinel.events import emit
from tzzr.states import RunStatus
from tzzr.work.heartbeat import heartbeat
from tzzr.work.leases import Leases
from tzzr.work.retry import backoff
from tzzr.work.timelimit import TimedOut

log = logging.getLogger("tzzr.worker")

LEASES = Leases(Run.__table__, ("h_instancia", "id"))  # type: ignore[arg-type]
_ADD_ARTIFACTS = insert(RunArtifact)


class _Superseded(Exception):
    """The run was cancelled or re-leased meanwhile: roll this answer back."""


class Executor:
    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        queue: RunQueue,
        blobs: BlobStore,
        ledger: Ledger,
        settings: Settings,
        worker: str,
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._queue = queue
        self._ledger = ledger
        self._settings = settings
        self.worker = worker
        self._store = InstanceStores(engine, blobs)
        self._results = ResultKeeper()

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._settings.run_lease_seconds)

    def execute(self, message: str) -> str:
        """Run one queued run (its queue message: `run_message`); its final (or next)
        status. Never raises for the run's own failures: a failing run never stops the
        worker."""
        h_instancia, run_id = parse_run_message(message)
        if h_instancia is None:
            h_instancia = self._legacy_instance(run_id)
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            row = LEASES.claim(conn, (h_instancia, run_id), self.worker, now, self._lease(now))
            if row is not None:
                emit(
                    conn,
                    "run_started",
                    h_instancia=row.h_instancia,
                    subject=run_id,
                    data={"cell": row.cell_id, "attempt": row.attempt, "worker": self.worker},
                    ts=now,
                )
        if row is None:
            return "skipped"  # cancelled, finished, or a repeated message
        queued_ms = (now - row.created_at).total_seconds() * 1000
        interval = self._settings.run_lease_seconds / 3
        key = (row.h_instancia, row.id)
        with (
            heartbeat().hold(lambda: self.heartbeat(*key, row.attempt), interval),
            tracing.span(f"run {row.cell_id}", row.traceparent, run_id=row.id, attempt=row.attempt),
        ):
            return self._run(row, queued_ms)

    def _run(self, row: Any, queued_ms: float) -> str:
        try:
            cell = self._catalog.get(row.h_instancia, row.cell_id, row.cell_version)
            store = self._store(row.h_instancia)
            done = invoke(
                cell,
                row.id,
                Blob(store, row.input_sha, row.input_type, row.media_type),
                params=row.params,
                lang=row.lang,
                timeout_s=row.timeout_s,
                max_input_bytes=self._settings.cell_max_input_bytes,
                keep=self._results.into(store),
            )
        except TimedOut:
            return self._end(
                row,
                RunStatus.TIMED_OUT,
                error={
                    "code": "timed_out",
                    "message": f"the run took longer than its {row.timeout_s:g} s limit",
                },
            )
        except TzzrError as exc:  # CellFailed, an unknown cell, a bad parameter: no retry
            return self._end(row, RunStatus.FAILED, error=exc.body()["error"])
        except Exception as exc:
            log.warning("run %s attempt %s failed: %r", row.id, row.attempt, exc)
            return self._retry_or_fail(row, f"{type(exc).__name__}: {exc}")
        return self._done(row, done, queued_ms)

    def _done(self, row: Any, done: Invoked, queued_ms: float) -> str:
        metrics = {
            **done.metrics,
            "latencyMs": round(done.latency_ms, 2),
            "queueMs": round(queued_ms, 2),
            "attempt": row.attempt,
            "worker": self.worker,
        }
        return self._end(
            row,
            RunStatus.DONE,
            result_sha=done.kept.sha256,
            metrics=metrics,
            artifacts=done.kept.artifacts,
        )

    def _end(self, row: Any, status: RunStatus, **values: Any) -> str:
        now = datetime.now(UTC)
        try:
            return self._write_end(row, now, status, values)
        except _Superseded:
            # Cancelled, or its lease ran out and another worker has it: this answer
            # (and its leaf) is dropped.
            return "discarded"

    def _write_end(self, row: Any, now: datetime, status: RunStatus, values: dict[str, Any]) -> str:
        artifacts = values.pop("artifacts", [])
        # one statement a kind of end (built once): done, or failed with its error
        values.setdefault("result_sha", None)
        values.setdefault("metrics", None)
        values["leaf_index"] = None
        with write_transaction(self._engine) as conn:
            if status == RunStatus.DONE:
                leaf = attestation(
                    row.id,
                    values["result_sha"],
                    now,
                    row.cell_id,
                    row.cell_version,
                    row.input_sha,
                    row.params_hash,
                )
                values["leaf_index"] = self._ledger.append_all_in(conn, row.h_instancia, [leaf])
            key = (row.h_instancia, row.id)
            finished = LEASES.write(
                conn, key, row.attempt, status=status, finished_at=now, lease_until=None, **values
            )
            if not finished:
                raise _Superseded
            emit(
                conn,
                "run_done" if status == RunStatus.DONE else "run_failed",
                severity="info" if status == RunStatus.DONE else "error",
                h_instancia=row.h_instancia,
                subject=row.id,
                data={
                    "cell": row.cell_id,
                    "status": status,
                    "latencyMs": (values.get("metrics") or {}).get("latencyMs"),
                    "error": values.get("error"),
                },
                ts=now,
            )
            if artifacts:
                conn.execute(
                    _ADD_ARTIFACTS,
                    [{"h_instancia": row.h_instancia, "run_id": row.id, **a} for a in artifacts],
                )
        notify.run_ended(self._settings, row.h_instancia, row.id)  # committed: wake ?wait=
        return status

    def _retry_or_fail(self, row: Any, message: str) -> str:
        error = {"code": "error", "message": message, "attempt": row.attempt}
        if row.attempt >= row.max_attempts:
            error["message"] = f"failed after {row.attempt} attempts; last: {message}"
            return self._end(row, RunStatus.FAILED, error=error)
        delay = backoff(self._settings.run_retry_seconds, row.attempt)
        with write_transaction(self._engine) as conn:
            again = LEASES.write(
                conn,
                (row.h_instancia, row.id),
                row.attempt,
                status=RunStatus.QUEUED,
                lease_until=None,
                worker=None,
                error=error,
            )
        if again:
            self._queue.enqueue(row.queue, run_message(row.h_instancia, row.id), delay=delay)
            return RunStatus.QUEUED
        return "discarded"

    def reap(self, now: datetime | None = None) -> list[str]:
        """Runs whose lease ran out (their worker died): back in the queue, or failed
        once they have used their attempts. A queued run with a lease (a preview queued
        at ingest) whose lease ran out lost its message: it is queued again."""
        now = now or datetime.now(UTC)

        def decide(row: Any) -> dict[str, Any]:
            if row.status == RunStatus.QUEUED:
                return {
                    "lease_until": now + timedelta(seconds=10 * self._settings.run_lease_seconds)
                }
            lost = f"its worker {row.worker} stopped (lease expired) on attempt {row.attempt}"
            error = {"code": "worker_lost", "message": lost}
            if row.attempt >= row.max_attempts:
                return {
                    "status": RunStatus.FAILED,
                    "lease_until": None,
                    "error": error,
                    "finished_at": now,
                }
            return {"status": RunStatus.QUEUED, "lease_until": None, "error": error}

        requeued = []
        statuses = (RunStatus.RUNNING, RunStatus.QUEUED)
        for row, values in LEASES.reap(self._engine, now, decide, statuses):
            if values.get("status") == RunStatus.FAILED:
                notify.run_ended(self._settings, row.h_instancia, row.id)  # wake ?wait=
                continue
            self._queue.enqueue(row.queue, run_message(row.h_instancia, row.id))
            requeued.append(row.id)
        return requeued

    def _legacy_instance(self, run_id: str) -> str | None:
        with self._engine.connect() as conn:
            found = conn.execute(
                # the oldest: a message of 0.1 was queued before any run of 0.2
                select(Run.h_instancia)
                .where(Run.id == run_id, Run.status == RunStatus.QUEUED)
                .order_by(Run.created_at)
                .limit(1)
            ).scalar()
        return str(found) if found is not None else None

    def heartbeat(self, h_instancia: str, run_id: str, attempt: int) -> bool:
        """Renew the run's lease; False once it is not this attempt's any more."""
        lease = self._lease(datetime.now(UTC))
        with write_transaction(self._engine) as conn:
            return LEASES.renew(conn, (h_instancia, run_id), attempt, lease)
