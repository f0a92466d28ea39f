"""Jobs: long work the server does for a caller (specializing a cell), in one of its
threads, with progress in the database, held under a lease (tzzr.work) from the moment
it is queued: the process's heartbeat renews it while the server lives. A job whose
server stopped is failed by the reaper once its lease has run out (its work lived in
that server's memory: it cannot be resumed); the jobs of a server still running, on this
machine or another, are left alone."""

import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from tzzr.db.engine import write_transaction
from tzzr.db.models import Job
from tzzr.errors import NotFound, TzzrError
from tzzr.instances import InstanceInfo
from tzzr.states import JobStatus
from tzzr.times import rfc3339, rfc3339_or_none
from tzzr.work.heartbeat import Holding, heartbeat
from tzzr.work.leases import Leases

log = logging.getLogger("tzzr.jobs")
Progress = Callable[[int, int, str], None]
Work = Callable[[Progress], dict[str, Any]]

LEASE_SECONDS = 30.0  # renewed every third of it; a stopped server's jobs fail after it
REAP_SECONDS = 10.0  # how often the scheduler looks for them
LEASES = Leases(Job.__table__, ("id",), started=None)  # type: ignore[arg-type]
INTERRUPTED = {
    "code": "interrupted",
    "message": "the server stopped during the job; start it again",
}


def job_json(row: Any) -> dict[str, Any]:
    return {
        "jobId": row.id,
        "kind": row.kind,
        "status": row.status,
        "request": row.request,
        "progress": row.progress,
        "result": row.result,
        "error": row.error,
        "createdAt": rfc3339(row.created_at),
        "finishedAt": rfc3339_or_none(row.finished_at),
    }


class Jobs:
    def __init__(
        self,
        engine: Engine,
        worker: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._engine = engine
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._lease_seconds = lease_seconds
        self._pool: ThreadPoolExecutor | None = None
        self._held: dict[str, Holding] = {}

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._lease_seconds)

    def start(self, instance: InstanceInfo, kind: str, request: dict[str, Any], work: Work) -> str:
        job_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            conn.execute(
                insert(Job).values(
                    id=job_id,
                    h_instancia=instance.h_instancia,
                    kind=kind,
                    status=JobStatus.QUEUED,
                    request=request,
                    progress={"done": 0, "total": None, "step": "queued"},
                    created_at=now,
                    attempt=0,
                    worker=self.worker,
                    lease_until=self._lease(now),
                )
            )
        holding = heartbeat().hold(lambda: self._renew(job_id), self._lease_seconds / 3)
        self._held[job_id] = holding
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tzzr-job")
        self._pool.submit(self._run, job_id, work, holding)
        return job_id

    def _renew(self, job_id: str) -> bool:
        with write_transaction(self._engine) as conn:
            return LEASES.reserve(conn, (job_id,), self.worker, self._lease(datetime.now(UTC)))

    def _run(self, job_id: str, work: Work, holding: Holding) -> None:
        try:
            now = datetime.now(UTC)
            with write_transaction(self._engine) as conn:
                row = LEASES.claim(conn, (job_id,), self.worker, now, self._lease(now))
            if row is None:  # reaped meanwhile
                return
            self._work(job_id, row.attempt, work)
        finally:
            holding.release()
            self._held.pop(job_id, None)

    def _write(self, job_id: str, attempt: int, **values: Any) -> None:
        with write_transaction(self._engine) as conn:
            LEASES.write(conn, (job_id,), attempt, **values)

    def _work(self, job_id: str, attempt: int, work: Work) -> None:
        def progress(done: int, total: int, step: str) -> None:
            self._write(job_id, attempt, progress={"done": done, "total": total, "step": step})

        def end(status: JobStatus, **values: Any) -> None:
            self._write(
                job_id,
                attempt,
                status=status,
                finished_at=datetime.now(UTC),
                lease_until=None,
                **values,
            )

        try:
            result = work(progress)
        except TzzrError as exc:
            end(JobStatus.FAILED, error=exc.body()["error"])
        except Exception as exc:
            log.exception("job %s failed", job_id)
            end(
                JobStatus.FAILED, error={"code": "error", "message": f"{type(exc).__name__}: {exc}"}
            )
        else:
            end(JobStatus.DONE, result=result)

    def get(self, instance: InstanceInfo, job_id: str) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Job).where(Job.id == job_id, Job.h_instancia == instance.h_instancia)
            ).first()
        if row is None:
            raise NotFound(f"no job {job_id!r} in this instance")
        return job_json(row)

    def reap(self, now: datetime | None = None) -> int:
        """Jobs whose lease ran out (their server stopped): failed, as interrupted."""
        now = now or datetime.now(UTC)
        failed = {"status": JobStatus.FAILED, "finished_at": now, "lease_until": None}
        reaped = LEASES.reap(
            self._engine,
            now,
            lambda _row: {**failed, "error": INTERRUPTED},
            (JobStatus.QUEUED, JobStatus.RUNNING),
        )
        return len(reaped)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for holding in list(self._held.values()):  # never started: reaped once they expire
            holding.release()
        self._held.clear()
