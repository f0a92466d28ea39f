"""The worker's side of a run: claim it under a lease, run the cell with its timeout,
keep the lease alive, and finish it exactly once: the result as a blob and an
`attestation` leaf in the same transaction. A lease that runs out (its worker died)
puts the run back in the queue."""

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update

from tzzr.blobs import BlobStore
from tzzr.cells.base import CellContext, Payload
from tzzr.cells.catalog import Catalog
from tzzr.cells.limits import read_input
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Run, RunArtifact
from tzzr.errors import TzzrError
from tzzr.feldman.log import Ledger
from tzzr.instances import InstanceStores
from tzzr.runs import notify
from tzzr.runs.queue import RunQueue, parse_run_message, run_message
from tzzr.runs.results import ResultKeeper, answer_metrics, attestation
from tzzr.sentinel import tracing
from tzzr.sentinel.events import emit

log = logging.getLogger("tzzr.worker")


# Built once: statements built per call cost more than the SQL they run.
_CLAIM = (
    update(Run)
    .where(Run.h_instancia == bindparam("hi"), Run.id == bindparam("rid"), Run.status == "queued")
    .values(
        status="running",
        attempt=Run.attempt + 1,
        worker=bindparam("worker"),
        started_at=bindparam("now"),
        lease_until=bindparam("lease"),
    )
    .returning(Run)
)
_FINISH = update(Run).where(
    Run.h_instancia == bindparam("hi"),
    Run.id == bindparam("rid"),
    Run.status == "running",
    Run.attempt == bindparam("at"),
)


class RunTimedOut(Exception):
    pass


class _Superseded(Exception):
    """The run was cancelled or re-leased meanwhile: roll this answer back."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the run after `seconds` (SIGALRM: worker processes run cells in their
    main thread). Elsewhere the limit is checked when the cell returns."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        raise RunTimedOut

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
            row = conn.execute(
                _CLAIM,
                {
                    "hi": h_instancia,
                    "rid": run_id,
                    "worker": self.worker,
                    "now": now,
                    "lease": self._lease(now),
                },
            ).first()
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
        with (
            Heartbeat(lambda: self.heartbeat(row.h_instancia, row.id, row.attempt), interval),
            tracing.span(f"run {row.cell_id}", row.traceparent, run_id=row.id, attempt=row.attempt),
        ):
            return self._run(row, queued_ms)

    def _run(self, row: Any, queued_ms: float) -> str:
        started = time.perf_counter()
        try:
            cell = self._catalog.get(row.h_instancia, row.cell_id, row.cell_version)
            if hasattr(cell, "timeout_s"):
                cell.timeout_s = row.timeout_s
            store = self._store(row.h_instancia)
            limit = self._settings.cell_max_input_bytes
            data = read_input(store, row.input_sha, cell, limit)  # size first: 413 unread
            payload = Payload(row.input_type, data, row.media_type)
            context = CellContext(row.id, row.lang, dict(row.params))
            with (
                time_limit(row.timeout_s),
                tracing.span(f"cell {cell.meta.id}", version=cell.meta.version),
            ):
                result = cell.run(context, payload)
            latency = (time.perf_counter() - started) * 1000
            if latency > row.timeout_s * 1000:
                raise RunTimedOut
        except RunTimedOut:
            return self._end(
                row,
                "timed_out",
                error={
                    "code": "timed_out",
                    "message": f"the run took longer than its {row.timeout_s:g} s limit",
                },
            )
        except TzzrError as exc:  # CellFailed, an unknown cell, a bad parameter: no retry
            return self._end(row, "failed", error=exc.body()["error"])
        except Exception as exc:
            log.warning("run %s attempt %s failed: %r", row.id, row.attempt, exc)
            return self._retry_or_fail(row, f"{type(exc).__name__}: {exc}")
        kept = self._results.keep(self._store(row.h_instancia), result)
        metrics = {
            **answer_metrics(result, round(latency, 2)),
            "queueMs": round(queued_ms, 2),
            "attempt": row.attempt,
            "worker": self.worker,
        }
        return self._end(
            row, "done", result_sha=kept.sha256, metrics=metrics, artifacts=kept.artifacts
        )

    def _end(self, row: Any, status: str, **values: Any) -> str:
        now = datetime.now(UTC)
        try:
            return self._write_end(row, now, status, values)
        except _Superseded:
            # Cancelled, or its lease ran out and another worker has it: this answer
            # (and its leaf) is dropped.
            return "discarded"

    def _write_end(self, row: Any, now: datetime, status: str, values: dict[str, Any]) -> str:
        artifacts = values.pop("artifacts", [])
        with write_transaction(self._engine) as conn:
            if status == "done":
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
            statement = _FINISH.values(status=status, finished_at=now, lease_until=None, **values)
            changed = conn.execute(
                statement, {"hi": row.h_instancia, "rid": row.id, "at": row.attempt}
            ).rowcount
            if not changed:
                raise _Superseded
            emit(
                conn,
                "run_done" if status == "done" else "run_failed",
                severity="info" if status == "done" else "error",
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
                    insert(RunArtifact),
                    [{"h_instancia": row.h_instancia, "run_id": row.id, **a} for a in artifacts],
                )
        notify.run_ended(self._settings, row.h_instancia, row.id)  # committed: wake ?wait=
        return status

    def _retry_or_fail(self, row: Any, message: str) -> str:
        error = {"code": "error", "message": message, "attempt": row.attempt}
        if row.attempt >= row.max_attempts:
            error["message"] = f"failed after {row.attempt} attempts; last: {message}"
            return self._end(row, "failed", error=error)
        delay = backoff(self._settings, row.attempt)
        with write_transaction(self._engine) as conn:
            changed = conn.execute(
                update(Run)
                .where(
                    Run.h_instancia == row.h_instancia,
                    Run.id == row.id,
                    Run.status == "running",
                    Run.attempt == row.attempt,
                )
                .values(status="queued", lease_until=None, worker=None, error=error)
            ).rowcount
        if changed:
            self._queue.enqueue(row.queue, run_message(row.h_instancia, row.id), delay=delay)
            return "queued"
        return "discarded"

    def reap(self) -> list[str]:
        """Runs whose lease ran out (their worker died): back in the queue, or failed
        once they have used their attempts."""
        now = datetime.now(UTC)
        with self._engine.connect() as conn:
            expired = conn.execute(
                select(Run).where(Run.status == "running", Run.lease_until < now)
            ).all()
        requeued = []
        for row in expired:
            lost = f"its worker {row.worker} stopped (lease expired) on attempt {row.attempt}"
            if row.attempt >= row.max_attempts:
                self._end_expired(row, now, "failed", {"code": "worker_lost", "message": lost})
                continue
            if self._end_expired(row, now, "queued", {"code": "worker_lost", "message": lost}):
                self._queue.enqueue(row.queue, run_message(row.h_instancia, row.id))
                requeued.append(row.id)
        return requeued

    def _end_expired(self, row: Any, now: datetime, status: str, error: dict[str, Any]) -> bool:
        values: dict[str, Any] = {"status": status, "lease_until": None, "error": error}
        if status == "failed":
            values["finished_at"] = now
        with write_transaction(self._engine) as conn:
            changed = bool(
                conn.execute(
                    update(Run)
                    .where(
                        Run.h_instancia == row.h_instancia,
                        Run.id == row.id,
                        Run.status == "running",
                        Run.attempt == row.attempt,
                        Run.lease_until < now,
                    )
                    .values(**values)
                ).rowcount
            )
        if changed and status == "failed":
            notify.run_ended(self._settings, row.h_instancia, row.id)  # wake ?wait=
        return changed

    def _legacy_instance(self, run_id: str) -> str | None:
        with self._engine.connect() as conn:
            found = conn.execute(
                # the oldest: a message of 0.1 was queued before any run of 0.2
                select(Run.h_instancia)
                .where(Run.id == run_id, Run.status == "queued")
                .order_by(Run.created_at)
                .limit(1)
            ).scalar()
        return str(found) if found is not None else None

    def heartbeat(self, h_instancia: str, run_id: str, attempt: int) -> bool:
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            return bool(
                conn.execute(
                    update(Run)
                    .where(
                        Run.h_instancia == h_instancia,
                        Run.id == run_id,
                        Run.status == "running",
                        Run.attempt == attempt,
                    )
                    .values(lease_until=self._lease(now))
                ).rowcount
            )


def backoff(settings: Settings, attempt: int) -> float:
    """Seconds before retrying after failed attempt number `attempt` (doubling)."""
    return float(settings.run_retry_seconds * 2 ** (attempt - 1))


class Heartbeat:
    """Calls `beat` every `interval` seconds while a cell works (renewing a lease),
    until stopped or until `beat` answers False (the lease was lost)."""

    def __init__(self, beat: Callable[[], bool], interval: float) -> None:
        self._beat = beat
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="tzzr-lease")

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not self._beat():
                    return
            except Exception:
                log.exception("renewing a lease failed")
